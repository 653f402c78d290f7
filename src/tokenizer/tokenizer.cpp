#include "tokenizer/tokenizer.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

Tokenizer::Tokenizer(TokenizerParts parts) : parts_(std::move(parts)) {
  if (!parts_.model) fail("tokenizer has no model");
  rebuild_matchers();
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

void Tokenizer::rebuild_matchers() {
  added_by_id_.clear();
  added_by_content_.clear();
  raw_matcher_ = AddedTokenMatcher();
  normalized_matcher_ = AddedTokenMatcher();
  vocab_size_ = parts_.model->vocabulary().tokens.size();
  for (size_t i = 0; i < parts_.added_tokens.size(); ++i) {
    const AddedToken& token = parts_.added_tokens[i];
    added_by_id_[token.id] = i;
    added_by_content_.emplace(token.content, token.id);
    vocab_size_ = std::max(vocab_size_, static_cast<size_t>(token.id) + 1);
    if (token.normalized && parts_.normalizer) {
      // HF matches a normalized token in normalized text, so its pattern is normalized as well.
      std::string pattern = token.content;
      parts_.normalizer->normalize(pattern);
      normalized_matcher_.add(std::move(pattern), token);
    } else {
      raw_matcher_.add(token.content, token);
    }
  }
}

void Tokenizer::set_post_processor(std::unique_ptr<PostProcessor> post_processor) { parts_.post_processor = std::move(post_processor); }

TokenId Tokenizer::add_token(const std::string& content, bool special) {
  if (const auto existing = token_to_id(content)) return *existing;
  AddedToken token;
  token.content = content;
  token.id = static_cast<TokenId>(vocab_size_);
  token.special = special;
  token.normalized = !special;
  parts_.added_tokens.push_back(token);
  rebuild_matchers();
  return token.id;
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  const auto it = added_by_content_.find(token);
  if (it != added_by_content_.end()) return it->second;
  return parts_.model->vocabulary().find(token);
}

const std::string& Tokenizer::id_to_token(TokenId id) const {
  const auto it = added_by_id_.find(id);
  if (it != added_by_id_.end()) return parts_.added_tokens[it->second].content;
  const auto& tokens = parts_.model->vocabulary().tokens;
  if (id < 0 || static_cast<size_t>(id) >= tokens.size())
    fail("token id {} is outside the vocabulary (valid ids are 0..{})", id, vocab_size_ == 0 ? 0 : vocab_size_ - 1);
  return tokens[id];
}

bool Tokenizer::is_special(TokenId id) const {
  const auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && parts_.added_tokens[it->second].special;
}

size_t Tokenizer::special_tokens_added(bool pair) const {
  return parts_.post_processor ? parts_.post_processor->added_count(pair) : 0;
}

void Tokenizer::encode_text(std::string_view text, bool at_start, std::vector<TokenId>& out) const {
  if (text.empty()) return;
  if (!parts_.pre_tokenizer) {
    parts_.model->encode(text, out);
    return;
  }
  const Model& model = *parts_.model;
  parts_.pre_tokenizer->pre_tokenize(text, at_start, [&](std::string_view piece, bool) { model.encode(piece, out); });
}

std::vector<TokenId> Tokenizer::encode_raw(std::string_view input, bool parse_special) const {
  // Only invalid input is copied here; PCRE2 and the byte maps need valid UTF-8.
  std::string sanitized;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    sanitized = sanitize_utf8(input);
    text = sanitized;
  }
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 4);
  const auto encode_segment = [&](std::string_view segment, bool at_start) {
    if (!parts_.normalizer && normalized_matcher_.empty()) {
      encode_text(segment, at_start, ids);
      return;
    }
    std::string normalized(segment);
    if (parts_.normalizer) parts_.normalizer->normalize(normalized);
    if (normalized_matcher_.empty()) {
      encode_text(normalized, at_start, ids);
      return;
    }
    for (const auto& part : normalized_matcher_.split(normalized, parse_special, at_start)) {
      if (part.token) ids.push_back(*part.token);
      else encode_text(part.text, part.at_start, ids);
    }
  };
  if (raw_matcher_.empty()) {
    encode_segment(text, true);
    return ids;
  }
  for (const auto& segment : raw_matcher_.split(text, parse_special, true)) {
    if (segment.token) ids.push_back(*segment.token);
    else encode_segment(segment.text, segment.at_start);
  }
  return ids;
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> ids = encode_raw(text, parse_special);
  if (add_special && parts_.post_processor) ids = parts_.post_processor->process(std::move(ids), nullptr);
  return ids;
}

std::vector<TokenId> Tokenizer::encode_ids_with_specials(std::vector<TokenId> ids) const {
  return parts_.post_processor ? parts_.post_processor->process(std::move(ids), nullptr) : ids;
}

std::vector<TokenId> Tokenizer::encode_pair(std::string_view first, std::string_view second, bool add_special,
                                             bool parse_special) const {
  std::vector<TokenId> a = encode_raw(first, parse_special);
  std::vector<TokenId> b = encode_raw(second, parse_special);
  if (add_special && parts_.post_processor) return parts_.post_processor->process(std::move(a), &b);
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    const std::string& token = id_to_token(id);
    if (skip_special && is_special(id)) continue;
    tokens.push_back(token);
  }
  if (parts_.decoder) {
    parts_.decoder->decode_chain(tokens);
    std::string text;
    for (const auto& token : tokens) text += token;
    return text;
  }
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) text.push_back(' ');
    text += tokens[i];
  }
  return text;
}

}  // namespace slmtune::tokenizer
