// parse_json: every failure is an slmtune::Error naming the origin, including values nlohmann-json
// parses but cannot hold (the config fuzzer found a number overflow escaping as another exception).
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "formats/json.hpp"

using namespace slmtune;

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_json(text, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(ParseJson, SyntaxErrorsGiveLineAndColumn) {
  const std::string error = error_of("{\n  \"a\": 1,\n  \"b\": ]\n}");
  EXPECT_EQ(error.rfind("config.json:3:", 0), 0u) << error;
}

TEST(ParseJson, OverflowingNumbersAreAnErrorToo) {
  // JSON allows any length of number; a double cannot hold 1e99999.
  const std::string error = error_of("{\"hidden_size\": 1e99999}");
  EXPECT_EQ(error.rfind("config.json: invalid JSON: number overflow", 0), 0u) << error;
}

TEST(ParseJson, KeepsKeyOrderAndPrintsLikePython) {
  const Json json = parse_json(R"({"b": 1, "a": [true, null, "é"]})", "x.json");
  EXPECT_EQ(python_json_dumps(json), R"({"b": 1, "a": [true, null, "é"]})");
}
