// parse_large_json: every failure is an slmtune::Error in parse_json's form, including a number too
// large to hold (the tokenizer.json fuzzer found 2e222222211111111111111 escaping as out_of_range).
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "tokenizer/json_access.hpp"

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

}  // namespace
}  // namespace slmtune::testing
