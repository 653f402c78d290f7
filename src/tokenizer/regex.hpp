#pragma once
// A compiled PCRE2 pattern (UTF + Unicode properties, JIT when available) and the ways the HF
// pre-tokenizers cut text with its matches. Subjects must be valid UTF-8 (see sanitize_utf8).
#include <functional>
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
  // The same, streamed: `on_match(begin, end)` for each match, without collecting them.
  template <class OnMatch>
  void for_each_match(std::string_view subject, OnMatch&& on_match) const {
    MatchCursor cursor(*this, subject);
    size_t begin = 0, end = 0;
    while (cursor.next(begin, end)) on_match(begin, end);
  }
  const std::string& pattern() const { return pattern_; }

 private:
  // Iterates the matches of one subject; keeps PCRE2 types out of this header.
  class MatchCursor {
   public:
    MatchCursor(const Regex& regex, std::string_view subject);
    ~MatchCursor();
    MatchCursor(const MatchCursor&) = delete;
    MatchCursor& operator=(const MatchCursor&) = delete;
    bool next(size_t& begin, size_t& end);

   private:
    const Regex& regex_;
    std::string_view subject_;
    void* data_;  // pcre2_match_data_8*
    size_t start_ = 0;
  };

  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*, kept opaque so this header stays light
  bool jit_ = false;
};

// What happens to the matched pieces ("delimiters"), as HF's SplitDelimiterBehavior.
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };
SplitBehavior parse_split_behavior(std::string_view name, const std::string& where);

// Streams the pieces of a text cut at delimiters: feed it regions left to right (each either a
// delimiter or the text between delimiters) and it calls `emit(begin, end)` for every non-empty
// piece the behaviour makes.
class PieceAssembler {
 public:
  using Emit = std::function<void(size_t begin, size_t end)>;
  PieceAssembler(SplitBehavior behavior, Emit emit) : behavior_(behavior), emit_(std::move(emit)) {}
  void region(size_t begin, size_t end, bool delimiter);
  void finish(size_t text_size);

 private:
  void piece(size_t begin, size_t end) {
    if (end > begin) emit_(begin, end);
  }
  SplitBehavior behavior_;
  Emit emit_;
  size_t pending_ = 0;            // start of the piece being built (merged behaviours)
  bool in_run_ = false;           // contiguous: a run of delimiters is open
  size_t run_begin_ = 0, run_end_ = 0;
};

// Cuts `text` at `matches` (sorted, non-overlapping) and returns the non-empty pieces.
std::vector<std::string> split_at_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                                          SplitBehavior behavior);
// The complement of `matches` within [0, size): used for `invert`.
std::vector<std::pair<size_t, size_t>> invert_matches(size_t size, const std::vector<std::pair<size_t, size_t>>& matches);

// Escapes `literal` so that PCRE2 matches it verbatim.
std::string regex_escape(std::string_view literal);

}  // namespace slmtune::tokenizer
