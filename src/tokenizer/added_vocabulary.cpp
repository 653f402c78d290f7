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
  int32_t node = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const auto byte = static_cast<uint8_t>(pattern[i]);
    int32_t next = 0;
    if (node == 0) {
      next = root_children_[byte];
    } else {
      const auto& children = nodes_[node].children;
      const auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(byte, int32_t{0}),
                                       [](const auto& a, const auto& b) { return a.first < b.first; });
      if (it != children.end() && it->first == byte) next = it->second;
    }
    if (next == 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      if (node == 0) {
        root_children_[byte] = next;
      } else {
        auto& children = nodes_[node].children;
        children.insert(std::lower_bound(children.begin(), children.end(), std::make_pair(byte, int32_t{0}),
                                         [](const auto& a, const auto& b) { return a.first < b.first; }),
                        {byte, next});
      }
    }
    node = next;
  }
  // The first token with a given pattern keeps it (HF keeps the first of duplicate contents).
  if (nodes_[node].entry >= 0) return;
  entries_.push_back({std::move(pattern), token});
  nodes_[node].entry = static_cast<int32_t>(entries_.size() - 1);
}

const AddedTokenMatcher::Entry* AddedTokenMatcher::longest_match(std::string_view text, size_t pos, bool parse_special) const {
  int32_t node = root_children_[static_cast<uint8_t>(text[pos])];
  const Entry* found = nullptr;
  for (size_t i = pos + 1; node != 0; ++i) {
    const Node& current = nodes_[node];
    if (current.entry >= 0) {
      const Entry& entry = entries_[current.entry];
      if (parse_special || !entry.token.special) found = &entry;
    }
    if (i >= text.size() || current.children.empty()) break;
    const auto byte = static_cast<uint8_t>(text[i]);
    const auto it = std::lower_bound(current.children.begin(), current.children.end(), std::make_pair(byte, int32_t{0}),
                                     [](const auto& a, const auto& b) { return a.first < b.first; });
    node = it != current.children.end() && it->first == byte ? it->second : 0;
  }
  return found;
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view text, bool parse_special, bool at_start) const {
  std::vector<Segment> segments;
  size_t emitted = 0;  // end of the last segment pushed
  const auto push_text = [&](size_t begin, size_t end) {
    if (end > begin) segments.push_back({std::string(text.substr(begin, end - begin)), std::nullopt, at_start && begin == 0});
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const Entry* found = longest_match(text, pos, parse_special);
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
