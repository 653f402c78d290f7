#pragma once
// Byte-pair encoding as HF tokenizers' BPE model does it: start from characters, then repeatedly
// apply the lowest-ranked merge present (leftmost first among equals), with optional byte fallback
// (<0xXX> tokens) for characters outside the vocabulary and an unknown token otherwise.
#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include "tokenizer/model.hpp"
#include "tokenizer/piece_cache.hpp"

namespace slmtune::tokenizer {

struct BpeOptions {
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;  // a piece that is itself a token is emitted without merging
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

struct MergeRule {
  std::string left, right;
  uint32_t rank;  // lower merges first; several rules may share a rank (SentencePiece scores)
};

class BpeModel final : public Model {
 public:
  // Fails naming `origin` and the merge when a merge names a token that is not in the vocabulary.
  BpeModel(Vocabulary vocabulary, const std::vector<MergeRule>& merges, BpeOptions options, const std::string& origin);

  void encode(std::string_view piece, std::vector<TokenId>& out) const override;
  const Vocabulary& vocabulary() const override { return vocabulary_; }
  std::string_view type() const override { return "BPE"; }
  const BpeOptions& options() const { return options_; }
  // Merges in rank order as token strings, for writing the model back out.
  std::vector<std::pair<std::string, std::string>> merges_in_rank_order() const;

 private:
  struct MergeTarget {
    uint32_t rank;
    TokenId merged;
  };
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  // Open-addressing map from a token pair to its merge: the lookup every merge step makes, so it
  // avoids std::unordered_map's node chasing.
  class MergeTable {
   public:
    void reserve(size_t count);
    // Keeps the first target for a key (a later duplicate rule never fires in HF).
    void insert(uint64_t key, MergeTarget target);
    const MergeTarget* find(uint64_t key) const {
      if (slots_.empty()) return nullptr;
      for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
        const Slot& slot = slots_[i];
        if (slot.key == key) return &slot.target;
        if (slot.key == kEmpty) return nullptr;
      }
    }
    size_t size() const { return size_; }
    template <class Visit>
    void for_each(Visit&& visit) const {
      for (const Slot& slot : slots_)
        if (slot.key != kEmpty) visit(slot.key, slot.target);
    }

   private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};  // the pair (-1, -1), never a real one
    struct Slot {
      uint64_t key = kEmpty;
      MergeTarget target{};
    };
    size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_; }
    std::vector<Slot> slots_;
    size_t mask_ = 0, size_ = 0;
    int shift_ = 64;
  };
  void encode_uncached(std::string_view piece, std::vector<TokenId>& out) const;
  void encode_word(std::string_view piece, std::vector<TokenId>& out) const;
  // The id of the one-character token `character`, through the code-point table when it covers it.
  std::optional<TokenId> character_id(std::string_view character) const;

  Vocabulary vocabulary_;
  BpeOptions options_;
  MergeTable merges_;
  // Ids of single-character tokens by code point (BMP, -1 when none), so that splitting a word
  // into characters needs no string hashing. Empty when a prefix/suffix option changes the lookup.
  std::vector<TokenId> character_ids_;
  std::optional<TokenId> unk_id_;
  std::array<TokenId, 256> byte_ids_{};  // <0xXX> tokens, -1 where absent
  bool all_bytes_present_ = false;
  // SentencePiece-style vocabularies see whole texts as one piece. When no token has "▁" right
  // after another character, no merge can cross the start of a "▁word", so the text may be cut
  // there exactly, which keeps the merge queues short and lets words hit the cache.
  bool cut_before_word_marks_ = false;

  // Pre-token → ids. Text repeats words constantly, so this removes most of the merge work.
  mutable std::mutex cache_mutex_;
  mutable PieceCache cache_;
};

}  // namespace slmtune::tokenizer
