// WordPiece from tokenizer.json on small vocabularies, with cases taken from the documented
// algorithm (Google BERT's tokenization.py docstring: "unaffable" → un ##aff ##able) and HF's
// BertNormalizer/BertPreTokenizer/WordPiece-decoder rules.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::testing {
namespace {

using Ids = std::vector<tokenizer::TokenId>;

tokenizer::Tokenizer tiny_bert(const std::string& normalizer = R"({"type": "BertNormalizer", "lowercase": true})") {
  const auto json = tokenizer::parse_large_json(R"({
    "normalizer": )" + normalizer + R"(,
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
    "added_tokens": [{"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}],
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 12,
              "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "un": 4, "##aff": 5, "##able": 6, "runn": 7, "##ing": 8,
                        ",": 9, "!": 10, "cafe": 11, "\u4e2d": 12, "\u6587": 13, "a": 14, "##a": 15, "'": 16, "s": 17}}})",
                                                "tiny-bert");
  return tokenizer::tokenizer_from_json(json, "tiny-bert");
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  const auto tok = tiny_bert();
  EXPECT_EQ(tok.encode("unaffable"), (Ids{4, 5, 6}));
  EXPECT_EQ(tok.encode("running"), (Ids{7, 8}));
  // A word that cannot be covered becomes one [UNK], even when a prefix matched ("un" + "x…").
  EXPECT_EQ(tok.encode("unx running"), (Ids{1, 7, 8}));
  // Longer than max_input_chars_per_word (12) characters: [UNK] without trying.
  EXPECT_EQ(tok.encode("aaaaaaaaaaaaa"), (Ids{1}));
  EXPECT_EQ(tok.encode("aaaaaaaaaaaa"), (Ids{14, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15}));
}

TEST(WordPiece, BertNormalizerAndPreTokenizer) {
  const auto tok = tiny_bert();
  // Lowercase, accents stripped (NFD then marks removed), punctuation isolated, whitespace removed.
  EXPECT_EQ(tok.encode("UnAffable, RUNNING!"), (Ids{4, 5, 6, 9, 7, 8, 10}));
  EXPECT_EQ(tok.encode("Caf\u00e9"), (Ids{11}));
  // Control characters dropped, tabs and newlines are whitespace.
  EXPECT_EQ(tok.encode("run\x01ning\tcafe\n"), (Ids{7, 8, 11}));
  // CJK ideographs are spaced out into words of their own.
  EXPECT_EQ(tok.encode("\u4e2d\u6587"), (Ids{12, 13}));
  // With lowercase off, accents stay (strip_accents follows lowercase when null) and case matters.
  const auto cased = tiny_bert(R"({"type": "BertNormalizer", "lowercase": false, "strip_accents": null})");
  EXPECT_EQ(cased.encode("Cafe cafe"), (Ids{1, 11}));
}

TEST(WordPiece, ClsSepAndDecoderCleanup) {
  const auto tok = tiny_bert();
  const Ids ids = tok.encode("unaffable, running!", true);
  EXPECT_EQ(ids, (Ids{2, 4, 5, 6, 9, 7, 8, 10, 3}));
  EXPECT_EQ(tok.decode(ids, true), "unaffable, running!");
}

}  // namespace
}  // namespace slmtune::testing
