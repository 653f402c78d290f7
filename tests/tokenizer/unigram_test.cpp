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

const tokenizer::Tokenizer& t5() {
  static const auto tok = tokenizer::Tokenizer::load(testdata("tokenizers/t5-small"));
  return tok;
}

// Reference ids: the examples in Hugging Face transformers' T5 documentation (model_doc/t5), which
// show t5-small's tokenizer output for these sentences (with the closing </s>, id 1). The vocabulary
// confirms them: 8774 = "▁Hello", 296 = "▁world", 293 = "▁own", 53 = "ing", 3 = "▁", 9 = "a".
TEST(Unigram, T5SmallMatchesTheDocumentedEncodings) {
  const auto& tok = t5();
  EXPECT_EQ(tok.encode("Hello world", true), (Ids{8774, 296, 1}));
  EXPECT_EQ(tok.encode("Studies have been shown that owning a dog is good for you", true),
            (Ids{6536, 43, 118, 2008, 24, 293, 53, 3, 9, 1782, 19, 207, 21, 25, 1}));
  // Sentinel tokens are added tokens, matched in the text.
  EXPECT_EQ(tok.encode("The <extra_id_0> walks in <extra_id_1> park", true, true), (Ids{37, 32099, 10681, 16, 32098, 2447, 1}));
  EXPECT_EQ(tok.encode("<extra_id_0> cute dog <extra_id_1> the <extra_id_2>", true, true),
            (Ids{32099, 5295, 1782, 32098, 8, 32097, 1}));
  EXPECT_EQ(tok.decode(tok.encode("Studies have been shown that owning a dog is good for you"), true),
            "Studies have been shown that owning a dog is good for you");
}

// Derived from the documented algorithm rather than a recorded output: the Precompiled normalizer
// (nmt_nfkc) runs before pre-tokenization, so text that NFKC maps to "Hello world" — full-width
// letters, tabs and newlines as separators, a decomposed accent — must give the same ids as that text.
TEST(Unigram, T5NormalizesBeforeSegmenting) {
  const auto& tok = t5();
  const Ids hello_world{8774, 296};
  EXPECT_EQ(tok.encode("\uff28\uff45\uff4c\uff4c\uff4f \uff57\uff4f\uff52\uff4c\uff44"), hello_world);
  EXPECT_EQ(tok.encode("Hello\tworld\n"), hello_world);
  EXPECT_EQ(tok.encode("  Hello \n\n world  "), hello_world);
  EXPECT_EQ(tok.encode("cafe\u0301"), tok.encode("caf\u00e9"));
}

}  // namespace
}  // namespace slmtune::testing
