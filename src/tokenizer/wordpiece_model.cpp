#include "tokenizer/wordpiece_model.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

WordPieceModel::WordPieceModel(Vocabulary vocabulary, WordPieceOptions options, const std::string& origin)
    : vocabulary_(std::move(vocabulary)), options_(std::move(options)) {
  const auto unk = vocabulary_.find(options_.unk_token);
  if (!unk) fail("{}: unk_token {:?} is not in the vocabulary", origin, options_.unk_token);
  unk_id_ = *unk;
  for (const auto& token : vocabulary_.tokens) max_token_bytes_ = std::max(max_token_bytes_, token.size());
}

void WordPieceModel::encode(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  size_t characters = 0;
  for (size_t pos = 0; pos < word.size(); pos += utf8_length(static_cast<unsigned char>(word[pos]))) ++characters;
  if (characters > options_.max_input_chars_per_word) {
    out.push_back(unk_id_);
    return;
  }
  const size_t first = out.size();
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    const std::string& prefix = start == 0 ? options_.word_prefix : options_.continuing_subword_prefix;
    // Longest first; no token is longer than the longest in the vocabulary.
    size_t end = std::min(word.size(), start + (max_token_bytes_ > prefix.size() ? max_token_bytes_ - prefix.size() : 0));
    while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;  // a character boundary
    std::optional<TokenId> found;
    while (end > start) {
      candidate.assign(prefix).append(word.substr(start, end - start));
      if ((found = vocabulary_.find(candidate))) break;
      do --end;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (!found) {
      // HF replaces the whole word, not just the part that failed.
      out.resize(first);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(*found);
    start = end;
  }
}

std::unique_ptr<Model> wordpiece_from_json(const JsonValue& spec, Vocabulary vocabulary, const std::string& path) {
  WordPieceOptions options;
  options.unk_token = json_string_or(spec, "unk_token", path, "[UNK]");
  options.continuing_subword_prefix = json_string_or(spec, "continuing_subword_prefix", path, "##");
  if (spec.contains("max_input_chars_per_word") && !spec["max_input_chars_per_word"].is_null()) {
    const int64_t limit = json_int(spec, "max_input_chars_per_word", path);
    if (limit < 0) fail("{}.max_input_chars_per_word: expected a non-negative count, found {}", path, limit);
    options.max_input_chars_per_word = static_cast<size_t>(limit);
  }
  return std::make_unique<WordPieceModel>(std::move(vocabulary), std::move(options), path);
}

}  // namespace slmtune::tokenizer
