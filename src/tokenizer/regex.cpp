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

Regex::MatchCursor::MatchCursor(const Regex& regex, std::string_view subject)
    : regex_(regex), subject_(subject), data_(pcre2_match_data_create_from_pattern(static_cast<pcre2_code*>(regex.code_), nullptr)) {
  if (data_ == nullptr) fail("regex {:?}: out of memory for match data", regex.pattern_);
}

Regex::MatchCursor::~MatchCursor() { pcre2_match_data_free(static_cast<pcre2_match_data*>(data_)); }

bool Regex::MatchCursor::next(size_t& begin, size_t& end) {
  auto* code = static_cast<pcre2_code*>(regex_.code_);
  auto* data = static_cast<pcre2_match_data*>(data_);
  const auto* bytes = reinterpret_cast<PCRE2_SPTR>(subject_.data());
  while (start_ < subject_.size()) {
    const int rc = regex_.jit_ ? pcre2_jit_match(code, bytes, subject_.size(), start_, 0, data, nullptr)
                               : pcre2_match(code, bytes, subject_.size(), start_, PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {
      start_ = subject_.size();
      return false;
    }
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      fail("regex {:?} failed while matching: {}", regex_.pattern_, reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    begin = ovector[0];
    end = ovector[1];
    if (end > begin) {
      start_ = end;
      return true;
    }
    // An empty match cuts nothing; step one character so the search makes progress.
    start_ = begin + utf8_length(static_cast<unsigned char>(subject_[begin]));
  }
  return false;
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view subject) const {
  std::vector<std::pair<size_t, size_t>> matches;
  for_each_match(subject, [&](size_t begin, size_t end) { matches.emplace_back(begin, end); });
  return matches;
}

void PieceAssembler::region(size_t begin, size_t end, bool delimiter) {
  switch (behavior_) {
    case SplitBehavior::removed:
      if (!delimiter) piece(begin, end);
      break;
    case SplitBehavior::isolated:
      piece(begin, end);
      break;
    case SplitBehavior::merged_with_previous:
      if (delimiter) {
        piece(pending_, end);
        pending_ = end;
      }
      break;
    case SplitBehavior::merged_with_next:
      if (delimiter) {
        piece(pending_, begin);
        pending_ = begin;
      }
      break;
    case SplitBehavior::contiguous:
      if (delimiter) {
        if (in_run_ && begin == run_end_) {
          run_end_ = end;
        } else {
          if (in_run_) piece(run_begin_, run_end_);
          in_run_ = true;
          run_begin_ = begin;
          run_end_ = end;
        }
      } else {
        if (in_run_) piece(run_begin_, run_end_);
        in_run_ = false;
        piece(begin, end);
      }
      break;
  }
}

void PieceAssembler::finish(size_t text_size) {
  if (behavior_ == SplitBehavior::merged_with_previous || behavior_ == SplitBehavior::merged_with_next) piece(pending_, text_size);
  if (behavior_ == SplitBehavior::contiguous && in_run_) piece(run_begin_, run_end_);
  pending_ = 0;
  in_run_ = false;
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
  std::vector<std::string> pieces;
  PieceAssembler assembler(behavior, [&](size_t begin, size_t end) { pieces.emplace_back(text.substr(begin, end - begin)); });
  size_t last = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > last) assembler.region(last, begin, false);
    assembler.region(begin, end, true);
    last = end;
  }
  if (last < text.size()) assembler.region(last, text.size(), false);
  assembler.finish(text.size());
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
