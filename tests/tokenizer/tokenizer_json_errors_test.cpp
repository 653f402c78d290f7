// Bad tokenizer.json files the fuzzer found: every failure is one slmtune::Error line, including a
// number too large to hold (2e222222211111111111111 escaped as out_of_range) and a token id so large
// that the dense id table would need gigabytes, and a Metaspace replacement that is not one character
// (an empty one split the text at every position forever).
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "tokenizer/json_access.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::testing {
namespace {

std::string error_of(const std::string& text) {
  try {
    tokenizer::parse_large_json(text, "tokenizer.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ParseLargeJson, SyntaxErrorsGiveLineAndColumn) {
  EXPECT_EQ(error_of("{\n\"model\": }").rfind("tokenizer.json:2:", 0), 0u) << error_of("{\n\"model\": }");
}

TEST(ParseLargeJson, OverflowingNumbersAreAnError) {
  const std::string error = error_of("2e222222211111111111111{\"type\": 1}");
  EXPECT_EQ(error.rfind("tokenizer.json: invalid JSON: number overflow", 0), 0u) << error;
  EXPECT_EQ(error_of("{\"vocab\": {\"a\": 1e99999}}").rfind("tokenizer.json: invalid JSON: number overflow", 0), 0u);
}

TEST(ParseLargeJson, ReadsWhatIsValid) {
  const auto json = tokenizer::parse_large_json("{\"b\": [1, 2.5], \"a\": null}", "t.json");
  EXPECT_EQ(json["b"][1].get<double>(), 2.5);
  EXPECT_TRUE(json["a"].is_null());
}

std::string load_error(const std::string& vocab, const std::string& more = "") {
  const std::string text = R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": []})" + more + "}";
  try {
    tokenizer::tokenizer_from_json(tokenizer::parse_large_json(text, "t.json"), "t.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TokenizerJsonErrors, IdsBeyondAnyVocabularyAreRefusedBeforeAllocating) {
  EXPECT_EQ(load_error(R"({"a": 0, "b": 2000000000})"),
            "t.json: model.vocab: token \"b\" has id 2000000000, beyond the largest id accepted (4194303)");
  EXPECT_EQ(load_error(R"({"a": 0, "b": 1})"), "no error");
}

TEST(TokenizerJsonErrors, MetaspaceReplacementIsOneCharacter) {
  const std::string vocab = R"({"a": 0})";
  const auto with = [&](const std::string& part, const std::string& replacement) {
    return load_error(vocab, ", \"" + part + R"(": {"type": "Metaspace", "replacement": ")" + replacement +
                                 R"(", "prepend_scheme": "always", "split": true})");
  };
  EXPECT_EQ(with("pre_tokenizer", ""), "t.json: pre_tokenizer.replacement: expected one character, found \"\"");
  EXPECT_EQ(with("decoder", "ab"), "t.json: decoder.replacement: expected one character, found \"ab\"");
  EXPECT_EQ(with("pre_tokenizer", "\u2581"), "no error");
}

}  // namespace
}  // namespace slmtune::testing
