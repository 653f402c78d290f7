// Loading the tokenizer embedded in a GGUF file (tokenizer.ggml.*): "llama" is SentencePiece-style
// BPE ranked by token scores, "gpt2" is byte-level BPE with explicit merges and the pre-tokenizer
// named by tokenizer.ggml.pre.
#include <algorithm>
#include <numeric>

#include "core/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/gguf_token_types.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/utf8.hpp"
#include "tokenizer/bert_text.hpp"
#include "tokenizer/wordpiece_model.hpp"

namespace slmtune::tokenizer {

namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // ▁, SentencePiece's stand-in for a space

// SentencePiece merges the adjacent pair whose joined piece scores highest. The same order as BPE
// ranks: every normal token that is the join of two normal tokens gets a rule per way of splitting
// it, ranked by its score (best first).
std::vector<MergeRule> merges_from_scores(const std::vector<std::string>& tokens, const std::vector<float>& scores,
                                          const std::vector<int32_t>& types, const TokenMap& ids) {
  std::vector<size_t> order(tokens.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  const auto is_normal = [&](TokenId id) { return types[id] == kTokenNormal; };
  std::vector<MergeRule> merges;
  for (size_t rank = 0; rank < order.size(); ++rank) {
    const size_t id = order[rank];
    const std::string& token = tokens[id];
    // Even pieces at the -1e9 floor merge (last): Llama 2's runs of "▁" have that score, yet HF merges them.
    if (!is_normal(static_cast<TokenId>(id)) || !is_valid_utf8(token)) continue;
    for (size_t split = utf8_length(static_cast<unsigned char>(token[0])); split < token.size();
         split += utf8_length(static_cast<unsigned char>(token[split]))) {
      const auto left = ids.find(std::string_view(token).substr(0, split));
      const auto right = ids.find(std::string_view(token).substr(split));
      if (left != ids.end() && right != ids.end() && is_normal(left->second) && is_normal(right->second))
        merges.push_back({left->first, right->first, static_cast<uint32_t>(rank)});
    }
  }
  return merges;
}

std::optional<TokenId> optional_id(const gguf::File& file, const char* key, size_t vocab_size) {
  const gguf::Value* value = file.find(key);
  if (value == nullptr) return std::nullopt;
  const int64_t id = file.get_int(key);
  if (id < 0) return std::nullopt;  // some converters write -1 for "none"
  if (static_cast<size_t>(id) >= vocab_size)
    fail("{}: {} = {} is outside the vocabulary of {} tokens", file.path().string(), key, id, vocab_size);
  return static_cast<TokenId>(id);
}

}  // namespace

Tokenizer load_gguf_tokenizer(const std::filesystem::path& path) {
  const gguf::File file = gguf::File::open(path);
  const std::string origin = path.string();
  const std::string model = file.get_string("tokenizer.ggml.model");
  const std::vector<std::string> tokens = file.get_string_array("tokenizer.ggml.tokens");
  std::vector<int32_t> types(tokens.size(), kTokenNormal);
  if (file.find("tokenizer.ggml.token_type")) {
    const auto values = file.get("tokenizer.ggml.token_type").as_int_array();
    if (values.size() != tokens.size())
      fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", origin, values.size(), tokens.size());
    for (size_t i = 0; i < values.size(); ++i) types[i] = static_cast<int32_t>(values[i]);
  }

  std::vector<std::pair<std::string, TokenId>> pairs;
  pairs.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) pairs.emplace_back(tokens[i], static_cast<TokenId>(i));
  Vocabulary vocabulary = Vocabulary::from_pairs(pairs, origin + ": tokenizer.ggml.tokens", /*allow_repeated_strings=*/true);

  TokenizerParts parts;
  bool add_bos_default = false, add_eos_default = false;
  if (model == "llama") {
    if (!file.find("tokenizer.ggml.scores")) fail("{}: metadata key 'tokenizer.ggml.scores' is missing (needed by a llama vocabulary)", origin);
    const std::vector<float> scores = file.get("tokenizer.ggml.scores").as_float_array();
    if (scores.size() != tokens.size()) fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", origin, scores.size(), tokens.size());
    const auto merges = merges_from_scores(tokens, scores, types, vocabulary.ids);
    BpeOptions options;
    options.byte_fallback = true;
    options.fuse_unk = true;
    if (const auto unk = optional_id(file, "tokenizer.ggml.unknown_token_id", tokens.size())) options.unk_token = tokens[*unk];
    const bool add_space_prefix = file.find("tokenizer.ggml.add_space_prefix") ? file.get_bool("tokenizer.ggml.add_space_prefix") : true;
    std::vector<std::unique_ptr<Normalizer>> steps;
    if (add_space_prefix) steps.push_back(prepend_normalizer(kSpace));
    steps.push_back(replace_normalizer(" ", kSpace));
    parts.normalizer = sequence_normalizer(std::move(steps));
    parts.model = std::make_unique<BpeModel>(std::move(vocabulary), merges, options, origin);
    parts.decoder = sentencepiece_decoder(add_space_prefix);
    add_bos_default = true;
  } else if (model == "gpt2") {
    std::vector<MergeRule> merges;
    const auto merge_strings = file.get_string_array("tokenizer.ggml.merges");
    merges.reserve(merge_strings.size());
    for (size_t i = 0; i < merge_strings.size(); ++i) {
      const std::string& text = merge_strings[i];
      const size_t space = text.find(' ');
      if (space == std::string::npos)
        fail("{}: tokenizer.ggml.merges[{}]: expected \"left right\", found {:?}", origin, i, text);
      merges.push_back({text.substr(0, space), text.substr(space + 1), static_cast<uint32_t>(i)});
    }
    // Files from before tokenizer.ggml.pre existed used GPT-2's split.
    const std::string pre = file.find("tokenizer.ggml.pre") ? file.get_string("tokenizer.ggml.pre") : "default";
    BpeOptions options;
    options.ignore_merges = pre_tokenizer_ignores_merges(pre);
    parts.pre_tokenizer = byte_level_with_patterns(pre_tokenizer_patterns(pre, origin), origin);
    parts.model = std::make_unique<BpeModel>(std::move(vocabulary), merges, options, origin + ": tokenizer.ggml.merges");
    parts.decoder = byte_level_decoder();
    parts.config.gguf_pre = pre;
  } else if (model == "bert") {
    // llama.cpp stores WordPiece vocabularies with a phantom space: "▁word" starts a word and a
    // continuation drops its "##". The text goes through BERT's uncased normalization (the only
    // kind llama.cpp supports) and pre-tokenizer.
    WordPieceOptions options;
    options.word_prefix = kSpace;
    options.continuing_subword_prefix.clear();
    if (const auto unk = optional_id(file, "tokenizer.ggml.unknown_token_id", tokens.size())) options.unk_token = tokens[*unk];
    parts.normalizer = bert_normalizer(BertNormalizerOptions{});
    parts.pre_tokenizer = bert_pre_tokenizer();
    parts.model = std::make_unique<WordPieceModel>(std::move(vocabulary), std::move(options), origin);
    parts.decoder = wordpiece_decoder("", kSpace, true);
    add_bos_default = add_eos_default = true;  // [CLS] … [SEP]
  } else {
    fail("{}: tokenizer.ggml.model '{}' is not supported (supported: llama, gpt2, bert)", origin, model);
  }

  // Control and unknown-type tokens are special; user-defined ones are plain added tokens, matched
  // in the raw text (llama.cpp always splits those out, as HF does with non-special added tokens).
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t type = types[i];
    if (type != kTokenControl && type != kTokenUserDefined && type != kTokenUnknown) continue;
    AddedToken token;
    token.content = tokens[i];
    token.id = static_cast<TokenId>(i);
    token.special = type != kTokenUserDefined;
    token.normalized = false;
    parts.added_tokens.push_back(std::move(token));
  }

  TokenizerConfig& config = parts.config;
  // BERT vocabularies name their sequence markers cls/seperator (sic, as llama.cpp spells the key).
  auto bos = optional_id(file, "tokenizer.ggml.bos_token_id", tokens.size());
  auto eos = optional_id(file, "tokenizer.ggml.eos_token_id", tokens.size());
  if (!bos) bos = optional_id(file, "tokenizer.ggml.cls_token_id", tokens.size());
  if (!eos) eos = optional_id(file, "tokenizer.ggml.seperator_token_id", tokens.size());
  if (bos) config.bos_token = tokens[*bos];
  if (eos) config.eos_token = tokens[*eos];
  if (const auto unk = optional_id(file, "tokenizer.ggml.unknown_token_id", tokens.size())) config.unk_token = tokens[*unk];
  if (const auto pad = optional_id(file, "tokenizer.ggml.padding_token_id", tokens.size())) config.pad_token = tokens[*pad];
  config.add_bos_token = file.find("tokenizer.ggml.add_bos_token") ? file.get_bool("tokenizer.ggml.add_bos_token") : add_bos_default;
  config.add_eos_token = file.find("tokenizer.ggml.add_eos_token") ? file.get_bool("tokenizer.ggml.add_eos_token") : add_eos_default;
  if (*config.add_bos_token && !bos) fail("{}: tokenizer.ggml.add_bos_token is true but there is no bos_token_id", origin);
  if (*config.add_eos_token && !eos) fail("{}: tokenizer.ggml.add_eos_token is true but there is no eos_token_id", origin);
  parts.post_processor = bos_eos_post_processor(*config.add_bos_token ? bos : std::nullopt, *config.add_eos_token ? eos : std::nullopt);
  for (const auto& [key, value] : file.metadata()) {
    if (key == "tokenizer.chat_template") config.chat_templates.push_back({"default", file.get_string(key)});
    else if (key.rfind("tokenizer.chat_template.", 0) == 0)
      config.chat_templates.push_back({key.substr(std::string_view("tokenizer.chat_template.").size()), file.get_string(key)});
  }
  if (const gguf::Value* length = file.find("tokenizer.ggml.model_max_length")) config.model_max_length = length->as_uint();
  return Tokenizer(std::move(parts));
}

}  // namespace slmtune::tokenizer
