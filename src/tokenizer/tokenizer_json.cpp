// Loading Hugging Face tokenizer.json.
#include "core/error.hpp"
#include "core/log.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/json_access.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/unigram_model.hpp"
#include "tokenizer/wordpiece_model.hpp"

namespace slmtune::tokenizer {

namespace {

Vocabulary vocabulary_from_object(const JsonValue& vocab, const std::string& path) {
  if (!vocab.is_object()) fail("{}: expected an object mapping tokens to ids, found {}", path, vocab.type_name());
  std::vector<std::pair<std::string, TokenId>> pairs;
  pairs.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      fail("{}.{:?}: expected a token id (a non-negative integer)", path, token);
    pairs.emplace_back(token, static_cast<TokenId>(id.get<int64_t>()));
  }
  return Vocabulary::from_pairs(pairs, path);
}

// "left right" is ambiguous when tokens contain spaces (Llama 2 has " " and "  "): the split is the
// space whose two sides and their join are all tokens.
std::pair<std::string, std::string> split_merge_string(const std::string& text, const Vocabulary& vocab, const std::string& where) {
  std::optional<std::pair<std::string, std::string>> first;
  for (size_t space = text.find(' '); space != std::string::npos; space = text.find(' ', space + 1)) {
    std::string left = text.substr(0, space), right = text.substr(space + 1);
    if (!first) first.emplace(left, right);
    if (vocab.find(left) && vocab.find(right) && vocab.find(left + right)) return {std::move(left), std::move(right)};
  }
  if (!first) fail("{}: expected \"left right\" (two tokens separated by a space), found {:?}", where, text);
  return *first;  // reported as an unknown token by the model
}

std::vector<MergeRule> merges_from_json(const JsonValue& merges, const Vocabulary& vocab, const std::string& path) {
  if (!merges.is_array()) fail("{}: expected an array of merges", path);
  std::vector<MergeRule> rules;
  rules.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const JsonValue& merge = merges[i];
    const auto rank = static_cast<uint32_t>(i);
    if (merge.is_string()) {
      auto [left, right] = split_merge_string(merge.get<std::string>(), vocab, fmt::format("{}[{}]", path, i));
      rules.push_back({std::move(left), std::move(right), rank});
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      rules.push_back({merge[0].get<std::string>(), merge[1].get<std::string>(), rank});
    } else {
      fail("{}[{}]: expected \"left right\" or [\"left\", \"right\"]", path, i);
    }
  }
  return rules;
}

std::unique_ptr<Model> model_from_json(const JsonValue& spec, const std::string& origin) {
  const std::string path = origin + ": model";
  if (!spec.is_object()) fail("{}: expected an object", path);
  // Old files omit "type"; the members then tell which model it is.
  std::string type = json_string_or(spec, "type", path, "");
  if (type.empty())
    type = spec.contains("merges")                                  ? "BPE"
           : spec.contains("vocab") && spec["vocab"].is_array()    ? "Unigram"
           : spec.contains("max_input_chars_per_word")             ? "WordPiece"
                                                                    : "";
  if (type == "BPE") {
    if (spec.contains("dropout") && spec["dropout"].is_number() && spec["dropout"].get<double>() > 0)
      log::warn("{}.dropout: BPE dropout is a training-time regularizer and is ignored here", path);
    BpeOptions options;
    const std::string unk = json_string_or(spec, "unk_token", path, "");
    if (!unk.empty()) options.unk_token = unk;
    options.fuse_unk = json_bool(spec, "fuse_unk", path, false);
    options.byte_fallback = json_bool(spec, "byte_fallback", path, false);
    options.ignore_merges = json_bool(spec, "ignore_merges", path, false);
    options.continuing_subword_prefix = json_string_or(spec, "continuing_subword_prefix", path, "");
    options.end_of_word_suffix = json_string_or(spec, "end_of_word_suffix", path, "");
    Vocabulary vocab = vocabulary_from_object(json_member(spec, "vocab", path), path + ".vocab");
    const auto merges = merges_from_json(json_member(spec, "merges", path), vocab, path + ".merges");
    return std::make_unique<BpeModel>(std::move(vocab), merges, std::move(options), path);
  }
  if (type == "Unigram") return unigram_from_json(spec, path);
  if (type == "WordPiece") return wordpiece_from_json(spec, vocabulary_from_object(json_member(spec, "vocab", path), path + ".vocab"), path);
  fail("{}.type: model type '{}' is not supported (supported: BPE, Unigram, WordPiece)", path, type.empty() ? "(none)" : type);
}

std::vector<AddedToken> added_tokens_from_json(const JsonValue& root, const std::string& origin) {
  std::vector<AddedToken> tokens;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return tokens;
  const std::string path = origin + ": added_tokens";
  if (!it->is_array()) fail("{}: expected an array", path);
  for (size_t i = 0; i < it->size(); ++i) {
    const JsonValue& entry = (*it)[i];
    const std::string where = fmt::format("{}[{}]", path, i);
    AddedToken token;
    const int64_t id = json_int(entry, "id", where);
    if (id < 0 || id > INT32_MAX) fail("{}.id: expected a token id, found {}", where, id);
    token.id = static_cast<TokenId>(id);
    token.content = json_string(entry, "content", where);
    token.special = json_bool(entry, "special", where, false);
    token.single_word = json_bool(entry, "single_word", where, false);
    token.lstrip = json_bool(entry, "lstrip", where, false);
    token.rstrip = json_bool(entry, "rstrip", where, false);
    token.normalized = json_bool(entry, "normalized", where, !token.special);
    for (const auto& other : tokens)
      if (other.id == token.id) fail("{}.id: duplicate added token id {}", where, token.id);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// The regexes a byte-level pre-tokenizer splits with, in order, or nullopt when it does anything
// else (then it has no tokenizer.ggml.pre name).
std::optional<std::vector<std::string>> split_patterns(const JsonValue& spec) {
  if (!spec.is_object() || !spec.contains("type") || !spec["type"].is_string()) return std::nullopt;
  const std::string type = spec["type"].get<std::string>();
  std::vector<std::string> patterns;
  if (type == "ByteLevel") {
    if (!spec.contains("use_regex") || spec["use_regex"] == true) patterns.emplace_back(kGpt2Pattern);
    return patterns;
  }
  if (type == "Split" && spec.contains("pattern") && spec["pattern"].contains("Regex") && spec["pattern"]["Regex"].is_string() &&
      spec.value("behavior", "") == "Isolated" && !spec.value("invert", false)) {
    patterns.push_back(spec["pattern"]["Regex"].get<std::string>());
    return patterns;
  }
  if (type == "Sequence" && spec.contains("pretokenizers") && spec["pretokenizers"].is_array()) {
    for (const auto& step : spec["pretokenizers"]) {
      const auto inner = split_patterns(step);
      if (!inner) return std::nullopt;
      patterns.insert(patterns.end(), inner->begin(), inner->end());
    }
    return patterns;
  }
  return std::nullopt;
}

}  // namespace

Tokenizer tokenizer_from_json(const JsonValue& root, const std::string& origin) {
  if (!root.is_object()) fail("{}: expected a JSON object", origin);
  TokenizerParts parts;
  const auto member = [&](const char* key) -> const JsonValue* {
    const auto it = root.find(key);
    return it == root.end() || it->is_null() ? nullptr : &*it;
  };
  if (const JsonValue* spec = member("normalizer")) parts.normalizer = make_normalizer(*spec, origin + ": normalizer");
  if (const JsonValue* spec = member("pre_tokenizer")) {
    parts.pre_tokenizer = make_pre_tokenizer(*spec, origin + ": pre_tokenizer");
    if (const auto patterns = split_patterns(*spec)) parts.config.gguf_pre = pre_tokenizer_name(*patterns);
  }
  parts.model = model_from_json(json_member(root, "model", origin), origin);
  parts.added_tokens = added_tokens_from_json(root, origin);
  if (const JsonValue* spec = member("post_processor")) {
    const Vocabulary& vocab = parts.model->vocabulary();
    const auto& added = parts.added_tokens;
    parts.post_processor = make_post_processor(*spec, origin + ": post_processor", [&](const std::string& token) -> std::optional<TokenId> {
      for (const auto& entry : added)
        if (entry.content == token) return entry.id;
      return vocab.find(token);
    });
  }
  if (const JsonValue* spec = member("decoder")) parts.decoder = make_decoder(*spec, origin + ": decoder");
  return Tokenizer(std::move(parts));
}

Tokenizer load_tokenizer_json(const std::filesystem::path& path) { return tokenizer_from_json(read_large_json(path), path.string()); }

}  // namespace slmtune::tokenizer
