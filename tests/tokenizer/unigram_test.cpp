// The Unigram model on a vocabulary small enough to score every segmentation by hand.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::testing {
namespace {

using Ids = std::vector<tokenizer::TokenId>;

tokenizer::Tokenizer tiny_unigram() {
  const auto json = tokenizer::parse_large_json(R"({
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always"},
    "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["\u2581a", -1.0], ["b", -2.0], ["\u2581", -3.0],
              ["a", -3.0], ["ab", -2.5], ["\u2581ab", -4.0]]}})", "tiny");
  return tokenizer::tokenizer_from_json(json, "tiny");
}

TEST(Unigram, ViterbiPicksTheBestSegmentation) {
  const auto tok = tiny_unigram();
  // "▁ab": [▁ab] -4, [▁a b] -3, [▁ ab] -5.5, [▁ a b] -8 → [▁a, b].
  EXPECT_EQ(tok.encode("ab"), (Ids{1, 2}));
  // Unknown characters become <unk>, consecutive ones fused into one.
  EXPECT_EQ(tok.encode("abcc"), (Ids{1, 2, 0}));
  // Each word gets its own "▁" piece boundary.
  EXPECT_EQ(tok.encode("ab ab"), (Ids{1, 2, 1, 2}));
  EXPECT_EQ(tok.decode(tok.encode("ab ab")), "ab ab");
}

TEST(Unigram, T5PrecompiledNormalizerIsReportedClearly) {
  try {
    tokenizer::load_tokenizer_json(testdata("tokenizers/t5-small/tokenizer.json"));
    FAIL() << "expected an error";
  } catch (const slmtune::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Precompiled"), std::string::npos) << message;
    EXPECT_NE(message.find("normalizer"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace slmtune::testing
