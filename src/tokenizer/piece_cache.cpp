#include "tokenizer/piece_cache.hpp"

#include <cstring>

namespace slmtune::tokenizer {

PieceCache::PieceCache(size_t max_entries, size_t max_piece_bytes)
    : max_entries_(max_entries), max_piece_bytes_(std::min<size_t>(max_piece_bytes, UINT16_MAX)) {
  slots_.resize(1024);
  mask_ = slots_.size() - 1;
}

uint64_t PieceCache::hash_of(std::string_view piece) {
  // Eight bytes per multiply; pieces are a few bytes long, so this beats a byte-wise hash.
  constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ull;
  uint64_t hash = piece.size() * kMultiplier;
  size_t pos = 0;
  for (; pos + 8 <= piece.size(); pos += 8) {
    uint64_t chunk;
    std::memcpy(&chunk, piece.data() + pos, 8);
    hash = (hash ^ chunk) * kMultiplier;
    hash ^= hash >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, piece.data() + pos, piece.size() - pos);
  hash = (hash ^ tail) * kMultiplier;
  return hash ^ (hash >> 32);
}

bool PieceCache::lookup(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty() || piece.size() > max_piece_bytes_) return false;
  const uint64_t hash = hash_of(piece);
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.key_length == 0) return false;
    if (slot.hash == hash && slot.key_length == piece.size() && std::memcmp(keys_.data() + slot.key_offset, piece.data(), piece.size()) == 0) {
      out.insert(out.end(), ids_.begin() + slot.ids_offset, ids_.begin() + slot.ids_offset + slot.id_count);
      return true;
    }
  }
}

void PieceCache::insert(std::string_view piece, std::span<const TokenId> ids) {
  if (piece.empty() || piece.size() > max_piece_bytes_ || ids.size() > UINT16_MAX || size_ >= max_entries_) return;
  if (keys_.size() + piece.size() > UINT32_MAX || ids_.size() + ids.size() > UINT32_MAX) return;
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t hash = hash_of(piece);
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    if (slot.key_length == 0) {
      slot = {hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(ids_.size()), static_cast<uint16_t>(piece.size()),
              static_cast<uint16_t>(ids.size())};
      keys_.append(piece);
      ids_.insert(ids_.end(), ids.begin(), ids.end());
      ++size_;
      return;
    }
    if (slot.hash == hash && slot.key_length == piece.size() && std::memcmp(keys_.data() + slot.key_offset, piece.data(), piece.size()) == 0)
      return;  // already cached (another thread got there first)
  }
}

void PieceCache::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.key_length == 0) continue;
    size_t i = slot.hash & mask_;
    while (slots_[i].key_length != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
}

}  // namespace slmtune::tokenizer
