// Unicode normalization forms against Python's unicodedata (normalization_cases.json, written by
// make_normalization_cases.py), and the Precompiled (SentencePiece charsmap) normalizer.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/precompiled_normalizer.hpp"

#include <optional>

namespace slmtune::testing {
namespace {

std::unique_ptr<tokenizer::Normalizer> normalizer_of(const std::string& json) {
  return tokenizer::make_normalizer(tokenizer::parse_large_json(json, "test"), "test");
}

std::string normalized(const tokenizer::Normalizer& normalizer, std::string text) {
  normalizer.normalize(text);
  return text;
}

TEST(UnicodeNormalizers, MatchPythonUnicodedata) {
  const auto golden = tokenizer::read_large_json(source_dir() / "tests/tokenizer/normalization_cases.json");
  const auto& cases = golden.at("cases");
  ASSERT_GT(cases.size(), 100u);
  for (const char* form : {"NFC", "NFD", "NFKC", "NFKD"}) {
    const auto normalizer = normalizer_of(fmt::format(R"({{"type": "{}"}})", form));
    size_t passed = 0;
    for (const auto& c : cases) {
      const std::string text = c.at("text").get<std::string>();
      const std::string expected = c.at(form).get<std::string>();
      const std::string got = normalized(*normalizer, text);
      if (got == expected) ++passed;
      else ADD_FAILURE() << form << " of " << fmt::format("{:?}", text) << "\n  expected " << fmt::format("{:?}", expected)
                         << "\n  got      " << fmt::format("{:?}", got);
    }
    fmt::print("[ vectors  ] {} vs Python unicodedata {}: {}/{} cases passed\n", form,
               golden.at("unicode_version").get<std::string>(), passed, cases.size());
  }
}

TEST(UnicodeNormalizers, LowercaseMatchesPythonPerCharacterLower) {
  const auto golden = tokenizer::read_large_json(source_dir() / "tests/tokenizer/normalization_cases.json");
  const auto normalizer = normalizer_of(R"({"type": "Lowercase"})");
  size_t passed = 0;
  for (const auto& c : golden.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const std::string expected = c.at("lowercase").get<std::string>();
    const std::string got = normalized(*normalizer, text);
    if (got == expected) ++passed;
    else ADD_FAILURE() << "Lowercase of " << fmt::format("{:?}", text) << "\n  expected " << fmt::format("{:?}", expected)
                       << "\n  got      " << fmt::format("{:?}", got);
  }
  fmt::print("[ vectors  ] Lowercase vs Python per-character lower: {}/{} cases passed\n", passed, golden.at("cases").size());
}

TEST(UnicodeNormalizers, ComposeWithOtherNormalizersInASequence) {
  const auto normalizer = normalizer_of(R"({"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]})");
  // U+FF28 FULLWIDTH H → H → h; U+212B ANGSTROM SIGN → U+00C5 → U+00E5.
  EXPECT_EQ(normalized(*normalizer, "\uff28I \u212b"), "hi \u00e5");
}

// The T5 charsmap is SentencePiece's nmt_nfkc: NFKC plus mapping tabs/newlines to spaces and
// removing control characters (SentencePiece's normalization documentation).
const tokenizer::Normalizer& t5_normalizer() {
  static const auto normalizer = [] {
    const auto json = tokenizer::read_large_json(testdata("tokenizers/t5-small/tokenizer.json"));
    return tokenizer::make_normalizer(json.at("normalizer"), "t5 normalizer");
  }();
  return *normalizer;
}

TEST(PrecompiledNormalizer, T5CharsmapAppliesNfkc) {
  const auto& n = t5_normalizer();
  EXPECT_EQ(normalized(n, "plain text stays"), "plain text stays");
  EXPECT_EQ(normalized(n, "\uff28\uff45\uff4c\uff4c\uff4f"), "Hello");  // full-width letters
  EXPECT_EQ(normalized(n, "\ufb01ne \u2460 x\u00b2"), "fine 1 x2");   // ligature, circled digit, superscript
  EXPECT_EQ(normalized(n, "cafe\u0301"), "caf\u00e9");                 // e + combining acute composes
  EXPECT_EQ(normalized(n, "\u212b"), "\u00c5");                         // Angstrom sign → Å
  EXPECT_EQ(normalized(n, "\u00e9t\u00e9"), "\u00e9t\u00e9");           // already NFKC
}

TEST(PrecompiledNormalizer, T5CharsmapAppliesNmtRules) {
  const auto& n = t5_normalizer();
  EXPECT_EQ(normalized(n, "a\tb"), "a b");
  EXPECT_EQ(normalized(n, "a\nb"), "a b");
  EXPECT_EQ(normalized(n, "a\x01" "b\x7f"), "ab");  // control characters are removed
}

// A trie built by hand from darts-clone's documented unit layout: the root's children lie at
// offset 1, so byte 'A' (0x41) leads to unit 1 ^ 0x41 = 64, whose leaf (offset 1) is unit 65 with
// value 0, the pool offset of "a".
std::string one_rule_charsmap() {
  std::vector<uint32_t> units(66, 0);
  units[0] = 1u << 10;                             // offset 1
  units[64] = (1u << 10) | (1u << 8) | 0x41u;      // label 'A', has a leaf, offset 1
  units[65] = 0x80000000u;                          // value unit: pool offset 0
  std::string blob;
  const auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) blob.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  put32(static_cast<uint32_t>(units.size() * 4));
  for (uint32_t unit : units) put32(unit);
  blob += std::string("a\0", 2);
  return blob;
}

TEST(PrecompiledNormalizer, HandBuiltTrie) {
  const tokenizer::CharsMap map(one_rule_charsmap(), "hand-built");
  EXPECT_EQ(map.shortest_prefix_rule("A"), std::optional<std::string_view>("a"));
  EXPECT_EQ(map.shortest_prefix_rule("AB"), std::optional<std::string_view>("a"));  // a prefix suffices
  EXPECT_EQ(map.shortest_prefix_rule("B"), std::nullopt);
  EXPECT_EQ(map.shortest_prefix_rule("@"), std::nullopt);  // 1 ^ 0x40 = 65: a value unit, never a label
  EXPECT_EQ(map.shortest_prefix_rule(""), std::nullopt);
}

TEST(PrecompiledNormalizer, CharsmapLookupIsBounded) {
  // A charsmap whose trie size claims more bytes than there are.
  const std::string base64 = "ZAAAAA==";  // little-endian 100, and nothing else
  try {
    tokenizer::precompiled_normalizer(base64, "t.json: normalizer.precompiled_charsmap");
    FAIL() << "expected an error";
  } catch (const slmtune::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("precompiled_charsmap"), std::string::npos) << message;
    EXPECT_NE(message.find("trie size 100"), std::string::npos) << message;
  }
  EXPECT_THROW(tokenizer::decode_base64("A*==", "x"), slmtune::Error);
  EXPECT_EQ(tokenizer::decode_base64("aGk=", "x"), "hi");
  EXPECT_EQ(tokenizer::decode_base64("aGkh", "x"), "hi!");
  // An empty charsmap normalizes nothing.
  EXPECT_EQ(normalized(*tokenizer::precompiled_normalizer("", "x"), "\uff28"), "\uff28");
}

TEST(NormalizerErrors, UnsupportedTypeNamesTypeAndPath) {
  try {
    normalizer_of(R"({"type": "Sequence", "normalizers": [{"type": "Nope"}]})");
    FAIL() << "expected an error";
  } catch (const slmtune::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("test.normalizers[0]"), std::string::npos) << message;
    EXPECT_NE(message.find("'Nope'"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace slmtune::testing
