#include "tokenizer/added_vocabulary.hpp"

#include <algorithm>

#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

// The code point that ends just before `end` (valid UTF-8 assumed).
char32_t code_point_before(std::string_view text, size_t end) {
  size_t begin = end - 1;
  while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
  return next_code_point(text, begin);
}

}  // namespace

void AddedTokenMatcher::add(std::string pattern, const AddedToken& token) {
  if (pattern.empty()) return;
  entries_.push_back({std::move(pattern), token});
  auto& bucket = by_first_byte_[static_cast<uint8_t>(entries_.back().pattern[0])];
  bucket.push_back(entries_.size() - 1);
  std::stable_sort(bucket.begin(), bucket.end(),
                   [&](size_t a, size_t b) { return entries_[a].pattern.size() > entries_[b].pattern.size(); });
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view text, bool parse_special, bool at_start) const {
  std::vector<Segment> segments;
  size_t emitted = 0;  // end of the last segment pushed
  const auto push_text = [&](size_t begin, size_t end) {
    if (end > begin) segments.push_back({std::string(text.substr(begin, end - begin)), std::nullopt, at_start && begin == 0});
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const Entry* found = nullptr;
    for (size_t index : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      const Entry& entry = entries_[index];
      if (entry.token.special && !parse_special) continue;
      if (text.compare(pos, entry.pattern.size(), entry.pattern) == 0) {
        found = &entry;
        break;
      }
    }
    if (found == nullptr) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = pos + found->pattern.size();
    if (found->token.single_word) {
      const bool word_before = begin > 0 && is_word_character(code_point_before(text, begin));
      size_t probe = end;
      const bool word_after = end < text.size() && is_word_character(next_code_point(text, probe));
      if (word_before || word_after) {
        pos = end;
        continue;
      }
    }
    if (found->token.lstrip) {
      while (begin > emitted && is_unicode_whitespace(code_point_before(text, begin))) {
        --begin;
        while (begin > emitted && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
      }
    }
    if (found->token.rstrip) {
      while (end < text.size()) {
        size_t next = end;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        end = next;
      }
    }
    push_text(emitted, begin);
    segments.push_back({std::string(), found->token.id, false});
    emitted = pos = end;
  }
  push_text(emitted, text.size());
  return segments;
}

}  // namespace slmtune::tokenizer
