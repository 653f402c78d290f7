#include "tokenizer/gguf_tokenizer_writer.hpp"

#include <limits>
#include <unordered_map>

#include "core/error.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/gguf_token_types.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

// The score converters give pieces no merge makes; they rank after every real merge.
constexpr float kUnreachableScore = -1e9f;

size_t code_point_count(std::string_view text) {
  size_t count = 0;
  for (size_t pos = 0; pos < text.size(); pos += utf8_length(static_cast<unsigned char>(text[pos]))) ++count;
  return count;
}

bool is_byte_token(const std::string& token) {
  return token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>';
}

}  // namespace

void add_tokenizer_to_gguf(const Tokenizer& tok, gguf::Writer& writer) {
  const auto* bpe = dynamic_cast<const BpeModel*>(&tok.model());
  if (bpe == nullptr) fail("writing a {} tokenizer to GGUF is not supported (only BPE models)", tok.model().type());
  const size_t size = tok.vocab_size();
  std::vector<std::string> tokens(size);
  std::vector<int32_t> types(size, kTokenNormal);
  const auto& model_tokens = bpe->vocabulary().tokens;
  for (size_t id = 0; id < size; ++id) {
    if (id < model_tokens.size()) tokens[id] = model_tokens[id];
    if (tokens[id].empty()) {
      // A gap in the ids; llama.cpp needs a distinct string for every id.
      tokens[id] = "[PAD" + std::to_string(id) + "]";
      types[id] = kTokenUnused;
    }
  }
  for (const AddedToken& added : tok.added_tokens()) {
    tokens[added.id] = added.content;
    types[added.id] = added.special ? kTokenControl : kTokenUserDefined;
  }
  const TokenizerConfig& config = tok.config();
  if (config.unk_token)
    if (const auto unk = tok.token_to_id(*config.unk_token)) types[*unk] = kTokenUnknown;

  const bool sentencepiece = bpe->options().byte_fallback;
  const auto merges = bpe->merges_in_rank_order();
  if (sentencepiece) {
    writer.set("tokenizer.ggml.model", gguf::Value::string("llama"));
    // The loader ranks merges by the score of the piece they make: best rank → highest score.
    std::unordered_map<std::string, size_t> first_rank;
    for (size_t rank = 0; rank < merges.size(); ++rank) first_rank.try_emplace(merges[rank].first + merges[rank].second, rank);
    std::vector<float> scores(size, 0.0f);
    for (size_t id = 0; id < size; ++id) {
      if (types[id] != kTokenNormal) continue;
      if (is_byte_token(tokens[id])) {
        types[id] = kTokenByte;
        continue;
      }
      const auto it = first_rank.find(tokens[id]);
      if (it != first_rank.end()) scores[id] = -static_cast<float>(it->second + 1);
      else if (code_point_count(tokens[id]) > 1) scores[id] = kUnreachableScore;
    }
    writer.set("tokenizer.ggml.tokens", gguf::Value::string_array(tokens));
    writer.set("tokenizer.ggml.scores", gguf::Value::f32_array(scores));
    writer.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
  } else {
    writer.set("tokenizer.ggml.model", gguf::Value::string("gpt2"));
    if (!config.gguf_pre)
      fail("this byte-level BPE's pre-tokenizer has no tokenizer.ggml.pre name (known splits: GPT-2, Llama 3, Qwen2, …)");
    writer.set("tokenizer.ggml.pre", gguf::Value::string(*config.gguf_pre));
    writer.set("tokenizer.ggml.tokens", gguf::Value::string_array(tokens));
    writer.set("tokenizer.ggml.token_type", gguf::Value::i32_array(types));
    std::vector<std::string> merge_strings;
    merge_strings.reserve(merges.size());
    for (const auto& [left, right] : merges) merge_strings.push_back(left + " " + right);
    writer.set("tokenizer.ggml.merges", gguf::Value::string_array(std::move(merge_strings)));
  }
  const auto set_id = [&](const char* key, const std::optional<std::string>& token) {
    if (!token) return;
    if (const auto id = tok.token_to_id(*token)) writer.set(key, gguf::Value::u32(static_cast<uint32_t>(*id)));
  };
  set_id("tokenizer.ggml.bos_token_id", config.bos_token);
  set_id("tokenizer.ggml.eos_token_id", config.eos_token);
  set_id("tokenizer.ggml.unknown_token_id", config.unk_token);
  set_id("tokenizer.ggml.padding_token_id", config.pad_token);
  // Without an explicit choice, record what the post-processor does.
  const auto with_specials = tok.encode_ids_with_specials({});
  const auto bos = config.bos_token ? tok.token_to_id(*config.bos_token) : std::nullopt;
  const auto eos = config.eos_token ? tok.token_to_id(*config.eos_token) : std::nullopt;
  const bool adds_bos = config.add_bos_token.value_or(bos && !with_specials.empty() && with_specials.front() == *bos);
  const bool adds_eos = config.add_eos_token.value_or(eos && !with_specials.empty() && with_specials.back() == *eos);
  writer.set("tokenizer.ggml.add_bos_token", gguf::Value::boolean(adds_bos));
  writer.set("tokenizer.ggml.add_eos_token", gguf::Value::boolean(adds_eos));
  for (const auto& entry : config.chat_templates) {
    const std::string key = entry.name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + entry.name;
    writer.set(key, gguf::Value::string(entry.source));
  }
}

}  // namespace slmtune::tokenizer
