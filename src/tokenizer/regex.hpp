#pragma once
// A compiled PCRE2 pattern (UTF + Unicode properties, JIT when available) and the ways the HF
// pre-tokenizers cut text with its matches. Subjects must be valid UTF-8 (see sanitize_utf8).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slmtune::tokenizer {

class Regex {
 public:
  // Throws slmtune::Error "<origin>: regex <pattern> rejected by PCRE2 at offset N: <message>".
  Regex(std::string pattern, const std::string& origin);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-empty matches, left to right, as [begin, end) byte offsets.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*, kept opaque so this header stays light
  bool jit_ = false;
};

// What happens to the matched pieces ("delimiters"), as HF's SplitDelimiterBehavior.
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };
SplitBehavior parse_split_behavior(std::string_view name, const std::string& where);

// Cuts `text` at `matches` (sorted, non-overlapping) and returns the non-empty pieces.
std::vector<std::string> split_at_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                                          SplitBehavior behavior);
// The complement of `matches` within [0, size): used for `invert`.
std::vector<std::pair<size_t, size_t>> invert_matches(size_t size, const std::vector<std::pair<size_t, size_t>>& matches);

// Escapes `literal` so that PCRE2 matches it verbatim.
std::string regex_escape(std::string_view literal);

}  // namespace slmtune::tokenizer
