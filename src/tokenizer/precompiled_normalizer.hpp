#pragma once
// HF's `Precompiled` normalizer: SentencePiece's compiled normalization rules (T5, ALBERT, XLM-R…).
//
// The `precompiled_charsmap` (base64) holds a little-endian uint32 byte count of a darts-clone
// double-array trie, that trie (uint32 units keyed by UTF-8 bytes), then a pool of NUL-terminated
// replacement strings that the trie's values point into.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizers.hpp"

namespace slmtune::tokenizer {

class CharsMap {
 public:
  // `blob` is the decoded charsmap; fails naming `path` when the sizes do not fit together.
  CharsMap(std::string_view blob, const std::string& path);
  // The replacement of the shortest rule whose key is a prefix of `text`, if any. This is what HF
  // looks up (SentencePiece itself prefers the longest key; the two agree on single characters).
  std::optional<std::string_view> shortest_prefix_rule(std::string_view text) const;
  bool empty() const { return units_.empty(); }

 private:
  std::vector<uint32_t> units_;
  std::string pool_;
  std::string path_;
};

std::string decode_base64(std::string_view text, const std::string& path);

// Builds the normalizer from the base64 charsmap (an empty one normalizes nothing).
std::unique_ptr<Normalizer> precompiled_normalizer(std::string_view base64_charsmap, const std::string& path);

}  // namespace slmtune::tokenizer
