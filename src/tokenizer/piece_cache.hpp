#pragma once
// A bounded map from short pre-tokenized pieces to their ids, kept in flat arrays (one probe and
// one compare per lookup, no allocation per entry). Text repeats words constantly, so the BPE
// model answers most pieces from here. Not synchronized: the owner locks around it.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/model.hpp"

namespace slmtune::tokenizer {

class PieceCache {
 public:
  // Pieces longer than max_piece_bytes are never cached; beyond max_entries inserts are dropped.
  PieceCache(size_t max_entries, size_t max_piece_bytes);
  // Appends the ids cached for `piece` to `out`; false when it is not cached.
  bool lookup(std::string_view piece, std::vector<TokenId>& out) const;
  void insert(std::string_view piece, std::span<const TokenId> ids);
  size_t size() const { return size_; }
  size_t max_piece_bytes() const { return max_piece_bytes_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0;
    uint32_t ids_offset = 0;
    uint16_t key_length = 0;  // 0: empty slot (pieces are never empty)
    uint16_t id_count = 0;
  };
  static uint64_t hash_of(std::string_view piece);
  void grow();

  size_t max_entries_, max_piece_bytes_;
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
  std::string keys_;
  std::vector<TokenId> ids_;
};

}  // namespace slmtune::tokenizer
