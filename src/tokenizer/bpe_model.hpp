#pragma once
// Byte-pair encoding as HF tokenizers' BPE model does it: start from characters, then repeatedly
// apply the lowest-ranked merge present (leftmost first among equals), with optional byte fallback
// (<0xXX> tokens) for characters outside the vocabulary and an unknown token otherwise.
#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include "tokenizer/model.hpp"

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
  void encode_uncached(std::string_view piece, std::vector<TokenId>& out) const;
  void encode_word(std::string_view piece, std::vector<TokenId>& out) const;

  Vocabulary vocabulary_;
  BpeOptions options_;
  std::unordered_map<uint64_t, MergeTarget> merges_;
  std::optional<TokenId> unk_id_;
  std::array<TokenId, 256> byte_ids_{};  // <0xXX> tokens, -1 where absent
  bool all_bytes_present_ = false;
  // SentencePiece-style vocabularies see whole texts as one piece. When no token has "▁" right
  // after another character, no merge can cross the start of a "▁word", so the text may be cut
  // there exactly, which keeps the merge queues short and lets words hit the cache.
  bool cut_before_word_marks_ = false;

  // Pre-token → ids. Text repeats words constantly, so this removes most of the merge work.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> cache_;
};

}  // namespace slmtune::tokenizer
