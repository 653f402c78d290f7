#pragma once
// WordPiece (BERT): each pre-tokenized word is cut greedily into the longest vocabulary pieces from
// the left; pieces after the first carry a continuation prefix ("##"). A word that cannot be cut
// completely, or is longer than max_input_chars_per_word characters, becomes one unknown token.
#include <memory>
#include <string>

#include "tokenizer/json_access.hpp"
#include "tokenizer/model.hpp"

namespace slmtune::tokenizer {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  // Prefix of word-initial pieces: "" in HF files; GGUF's "bert" vocabularies store "▁word" for
  // word starts and drop "##" from continuations instead.
  std::string word_prefix;
  size_t max_input_chars_per_word = 100;
};

class WordPieceModel final : public Model {
 public:
  // Fails naming `origin` when the unknown token is not in the vocabulary.
  WordPieceModel(Vocabulary vocabulary, WordPieceOptions options, const std::string& origin);
  void encode(std::string_view piece, std::vector<TokenId>& out) const override;
  const Vocabulary& vocabulary() const override { return vocabulary_; }
  std::string_view type() const override { return "WordPiece"; }
  const WordPieceOptions& options() const { return options_; }

 private:
  Vocabulary vocabulary_;
  WordPieceOptions options_;
  TokenId unk_id_ = 0;
  size_t max_token_bytes_ = 0;
};

// From tokenizer.json's {"type": "WordPiece", "unk_token", "continuing_subword_prefix",
// "max_input_chars_per_word"}, with its "vocab" object already read into `vocabulary`.
std::unique_ptr<Model> wordpiece_from_json(const JsonValue& spec, Vocabulary vocabulary, const std::string& path);

}  // namespace slmtune::tokenizer
