#include "tokenizer/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

Regex::Regex(std::string pattern, const std::string& origin) : pattern_(std::move(pattern)) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    fail("{}: regex {:?} rejected by PCRE2 at offset {}: {}", origin, pattern_, error_offset,
         reinterpret_cast<const char*>(message));
  }
  code_ = code;
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view subject) const {
  std::vector<std::pair<size_t, size_t>> matches;
  auto* code = static_cast<pcre2_code*>(code_);
  // One match-data block per call keeps find_all usable from several threads at once.
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
  const auto* bytes = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t start = 0;
  while (start < subject.size()) {
    const int rc = jit_ ? pcre2_jit_match(code, bytes, subject.size(), start, 0, data.get(), nullptr)
                        : pcre2_match(code, bytes, subject.size(), start, PCRE2_NO_UTF_CHECK, data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      fail("regex {:?} failed while matching: {}", pattern_, reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    const size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      start = end;
    } else {
      // An empty match cuts nothing; step one character so the search makes progress.
      start = begin + utf8_length(static_cast<unsigned char>(subject[begin]));
    }
  }
  return matches;
}

SplitBehavior parse_split_behavior(std::string_view name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::removed;
  if (name == "Isolated") return SplitBehavior::isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
  if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
  if (name == "Contiguous") return SplitBehavior::contiguous;
  fail("{}: unknown split behavior '{}' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)",
       where, name);
}

std::vector<std::pair<size_t, size_t>> invert_matches(size_t size, const std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t last = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > last) out.emplace_back(last, begin);
    last = end;
  }
  if (last < size) out.emplace_back(last, size);
  return out;
}

std::vector<std::string> split_at_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                                          SplitBehavior behavior) {
  // Label every region as delimiter or not, then assemble pieces per behaviour.
  struct Region {
    size_t begin, end;
    bool delimiter;
  };
  std::vector<Region> regions;
  size_t last = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > last) regions.push_back({last, begin, false});
    regions.push_back({begin, end, true});
    last = end;
  }
  if (last < text.size()) regions.push_back({last, text.size(), false});

  std::vector<std::string> pieces;
  const auto piece = [&](size_t begin, size_t end) {
    if (end > begin) pieces.emplace_back(text.substr(begin, end - begin));
  };
  switch (behavior) {
    case SplitBehavior::removed:
      for (const auto& r : regions)
        if (!r.delimiter) piece(r.begin, r.end);
      break;
    case SplitBehavior::isolated:
      for (const auto& r : regions) piece(r.begin, r.end);
      break;
    case SplitBehavior::contiguous: {
      // Adjacent delimiters fuse into one piece.
      size_t i = 0;
      while (i < regions.size()) {
        size_t j = i + 1;
        if (regions[i].delimiter)
          while (j < regions.size() && regions[j].delimiter) ++j;
        piece(regions[i].begin, regions[j - 1].end);
        i = j;
      }
      break;
    }
    case SplitBehavior::merged_with_previous: {
      size_t begin = 0;
      for (const auto& r : regions) {
        if (r.delimiter) {
          piece(begin, r.end);
          begin = r.end;
        }
      }
      piece(begin, text.size());
      break;
    }
    case SplitBehavior::merged_with_next: {
      size_t begin = 0;
      for (const auto& r : regions) {
        if (r.delimiter) {
          piece(begin, r.begin);
          begin = r.begin;
        }
      }
      piece(begin, text.size());
      break;
    }
  }
  return pieces;
}

std::string regex_escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~ ").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace slmtune::tokenizer
