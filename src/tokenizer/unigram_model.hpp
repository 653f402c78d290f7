#pragma once
// The Unigram model (T5, SentencePiece "unigram"): the segmentation with the highest total
// log-probability, found by Viterbi over the piece's characters. Characters no token covers become
// the unknown token (consecutive ones fused), or bytes with byte_fallback.
#include <memory>

#include "tokenizer/json_access.hpp"
#include "tokenizer/model.hpp"

namespace slmtune::tokenizer {

class UnigramModel final : public Model {
 public:
  UnigramModel(Vocabulary vocabulary, std::vector<double> scores, std::optional<TokenId> unk_id, bool byte_fallback);
  void encode(std::string_view piece, std::vector<TokenId>& out) const override;
  const Vocabulary& vocabulary() const override { return vocabulary_; }
  std::string_view type() const override { return "Unigram"; }
  const std::vector<double>& scores() const { return scores_; }

 private:
  Vocabulary vocabulary_;
  std::vector<double> scores_;
  std::optional<TokenId> unk_id_;
  bool byte_fallback_;
  double unk_score_ = 0;
  size_t max_token_bytes_ = 0;
};

// From tokenizer.json's model object {"type": "Unigram", "vocab": [[piece, score]…], "unk_id": n}.
std::unique_ptr<Model> unigram_from_json(const JsonValue& spec, const std::string& path);

}  // namespace slmtune::tokenizer
