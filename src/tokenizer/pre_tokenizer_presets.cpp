// The split patterns of the BPE vocabularies GGUF files name in tokenizer.ggml.pre. They are the
// Split pre-tokenizer patterns of each model's Hugging Face tokenizer.json; each list is applied in
// order, every pattern cutting the pieces left by the previous one.
#include "core/error.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::tokenizer {

namespace {

const char* const kGpt2NoTail = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kCjkRun = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
// DeepSeek LLM's letter class: Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee… cased letters.
const char* const kDeepseekLetters =
    "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
    "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f"
    "\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
    "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d"
    "\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4"
    "\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
    "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d"
    "\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a"
    "\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2"
    "\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+";
const char* const kDeepseekPunctuation = "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+";

}  // namespace

std::vector<std::string> pre_tokenizer_patterns(std::string_view pre, const std::string& origin) {
  if (pre == "gpt-2" || pre == "gpt2" || pre == "default" || pre == "mpt" || pre == "olmo" || pre == "jais")
    return {kGpt2Pattern};
  if (pre == "llama-bpe" || pre == "llama3" || pre == "dbrx" || pre == "smaug-bpe" || pre == "chatglm-bpe")
    return {kLlama3Pattern};
  if (pre == "qwen2" || pre == "stablelm2") return {kQwen2Pattern};
  if (pre == "deepseek-llm")
    return {"[\r\n]", kDeepseekLetters, kDeepseekPunctuation, "\\s+$", kCjkRun, "\\p{N}+"};
  if (pre == "deepseek-coder") return {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kCjkRun, "\\p{N}"};
  if (pre == "falcon") return {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2NoTail, "[0-9][0-9][0-9]"};
  if (pre == "starcoder" || pre == "refact" || pre == "command-r" || pre == "smollm" || pre == "codeshell")
    return {"\\p{N}", kGpt2NoTail};
  fail("{}: tokenizer.ggml.pre '{}' is not a known pre-tokenizer (known: gpt-2, llama-bpe, qwen2, deepseek-llm, "
       "deepseek-coder, falcon, starcoder, refact, command-r, smollm, mpt, olmo, default)",
       origin, pre);
}

std::optional<std::string> pre_tokenizer_name(const std::vector<std::string>& patterns) {
  for (const char* name : {"gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "falcon", "starcoder"})
    if (pre_tokenizer_patterns(name, "") == patterns) return std::string(name);
  return std::nullopt;
}

bool pre_tokenizer_ignores_merges(std::string_view pre) { return pre == "llama-bpe" || pre == "llama3"; }

}  // namespace slmtune::tokenizer
