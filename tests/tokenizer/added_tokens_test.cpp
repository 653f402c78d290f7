// Added and special tokens: HF's documented semantics (leftmost-longest match before the model;
// special tokens only with parse_special; normalized tokens matched after normalization).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::testing {
namespace {

using tokenizer::TokenId;
using tokenizer::Tokenizer;
using Ids = std::vector<TokenId>;

const Tokenizer& phi2() {
  static const Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  return tok;
}

// The id phi-2's tokenizer.json gives the added token `content` (read independently of the loader).
TokenId phi2_added_id(const std::string& content) {
  static const auto json = tokenizer::read_large_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  for (const auto& entry : json["added_tokens"])
    if (entry["content"] == content) return entry["id"].get<TokenId>();
  throw std::runtime_error("no such added token");
}

TEST(AddedTokens, Phi2WhitespaceRunsAreAddedTokens) {
  const Tokenizer& tok = phi2();
  const TokenId x = *tok.token_to_id("x"), y = *tok.token_to_id("y");
  // A run of five spaces is one added token; the model never sees it.
  EXPECT_EQ(tok.encode("x     y"), (Ids{x, phi2_added_id("     "), y}));
  // Longest match first: 40 spaces = the 31-space token + the 9-space token.
  EXPECT_EQ(tok.encode("x" + std::string(40, ' ') + "y"),
            (Ids{x, phi2_added_id(std::string(31, ' ')), phi2_added_id(std::string(9, ' ')), y}));
  // Tab runs too, and a single space still goes through GPT-2's BPE ("Ġy").
  EXPECT_EQ(tok.encode("x\t\t\ty"), (Ids{x, phi2_added_id("\t\t\t"), y}));
  EXPECT_EQ(tok.encode("x y"), (Ids{x, *tok.token_to_id("\xC4\xA0y")}));
  for (const std::string& text : std::vector<std::string>{"x     y", "  a\t\t\tb    c", std::string(70, ' ')}) EXPECT_EQ(tok.decode(tok.encode(text)), text);
}

TEST(AddedTokens, SpecialTokensOnlyWithParseSpecial) {
  const Tokenizer& tok = phi2();
  const TokenId eot = phi2_added_id("<|endoftext|>");
  EXPECT_TRUE(tok.is_special(eot));
  const Ids parsed = tok.encode("hi<|endoftext|>", false, true);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[1], eot);
  const Ids literal = tok.encode("hi<|endoftext|>", false, false);
  EXPECT_GT(literal.size(), 2u);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), eot), 0);
  // Both decode back to the same text; skip_special drops only the special one.
  EXPECT_EQ(tok.decode(parsed), "hi<|endoftext|>");
  EXPECT_EQ(tok.decode(literal), "hi<|endoftext|>");
  EXPECT_EQ(tok.decode(parsed, true), "hi");
  EXPECT_EQ(tok.decode(literal, true), "hi<|endoftext|>");
}

TEST(AddedTokens, Phi3SpecialTokensSplitBeforeNormalization) {
  const Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct/tokenizer.json"));
  const TokenId user = *tok.token_to_id("<|user|>"), end = *tok.token_to_id("<|end|>");
  const Ids ids = tok.encode("<|user|>Hi<|end|>", false, true);
  // normalized=false tokens are cut from the raw text; each remaining piece then gets its own "▁"
  // from the Prepend normalizer, as HF does.
  EXPECT_EQ(ids, (Ids{user, *tok.token_to_id("\xE2\x96\x81Hi"), end}));
  // </s> is a non-special added token with rstrip: it is matched even without parse_special and
  // swallows the whitespace after it.
  const TokenId eos = *tok.token_to_id("</s>");
  EXPECT_FALSE(tok.is_special(eos));
  EXPECT_EQ(tok.encode("</s>   x", false, false), (Ids{eos, *tok.token_to_id("\xE2\x96\x81x")}));
}

TEST(AddedTokens, Llama2PostProcessorAddsBos) {
  const Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/llama-2/tokenizer.json"));
  // tokenizer.json's TemplateProcessing: "<s>" $A.
  const Ids plain = tok.encode("Hello");
  Ids with_bos = plain;
  with_bos.insert(with_bos.begin(), 1);
  EXPECT_EQ(tok.encode("Hello", true), with_bos);
  EXPECT_EQ(tok.special_tokens_added(), 1u);
  EXPECT_EQ(tok.decode(with_bos, true), "Hello");
}

TEST(AddedTokens, InvalidUtf8NeverCrashes) {
  const Tokenizer& tok = phi2();
  static constexpr char kInvalid[] = "\xFF\xFE\x80 a\xC3(\xE2\x82 \xF0\x9F\x98";
  const std::string bytes(kInvalid, sizeof kInvalid - 1);  // 13 bytes, no terminator
  const Ids ids = tok.encode(bytes);
  EXPECT_FALSE(ids.empty());
  // Invalid sequences became U+FFFD before tokenizing, so decoding gives valid UTF-8.
  const std::string text = tok.decode(ids);
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(text.find(" a"), std::string::npos);
}

TEST(AddedTokens, DecodeRejectsIdsOutsideTheVocabulary) {
  const Tokenizer& tok = phi2();
  const Ids bad{15496, static_cast<TokenId>(tok.vocab_size())};
  try {
    tok.decode(bad);
    FAIL() << "expected an error";
  } catch (const slmtune::Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(tok.vocab_size())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace slmtune::testing
