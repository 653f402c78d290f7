#pragma once
// Added tokens (HF's AddedVocabulary): strings that are cut out of the text before the model runs,
// leftmost-longest, each becoming its own id. Special tokens are cut only when parse_special is on;
// non-special added tokens (phi-2's whitespace runs, Phi-3's </s>) are always cut.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/model.hpp"

namespace slmtune::tokenizer {

struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool special = false;
  bool single_word = false;  // only where not touching a word character on either side
  bool lstrip = false;       // also swallows the whitespace to its left
  bool rstrip = false;       // and to its right
  bool normalized = true;    // matched in normalized text (else in the raw input)
};

// A stretch of text, or one added token.
struct Segment {
  std::string text;
  std::optional<TokenId> token;
  bool at_start = false;  // begins the input (for Metaspace's prepend_scheme "first")
};

class AddedTokenMatcher {
 public:
  // `patterns` are the strings to find (the content, normalized where the token says so).
  void add(std::string pattern, const AddedToken& token);
  bool empty() const { return entries_.empty(); }
  // Splits `text` at the tokens found; special tokens count only when `parse_special`.
  std::vector<Segment> split(std::string_view text, bool parse_special, bool at_start) const;

 private:
  struct Entry {
    std::string pattern;
    AddedToken token;
  };
  // A byte trie over the patterns: the longest match at a position is one walk down from the root.
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    int32_t entry = -1;                                  // pattern ending here
  };
  // The longest usable pattern starting at `pos`, or nullptr.
  const Entry* longest_match(std::string_view text, size_t pos, bool parse_special) const;

  std::vector<Entry> entries_;
  std::vector<Node> nodes_{Node{}};
  std::array<int32_t, 256> root_children_{};  // 0 = none (node 0 is the root itself)
};

}  // namespace slmtune::tokenizer
