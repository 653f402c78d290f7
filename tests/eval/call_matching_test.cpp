// BFCL-style AST matching of one call and the scoring of one turn, each rule of issue 7 on its own.
#include <gtest/gtest.h>

#include "core/atomic_file.hpp"
#include "eval/call_matching.hpp"
#include "support/test_support.hpp"

namespace slmtune::eval {
namespace {

using functions::FunctionCall;

std::vector<functions::FunctionDefinition> tools() {
  return functions::parse_function_definitions(Json::parse(R"([
    {"name": "set_course", "parameters": {"type": "object", "properties": {
       "heading": {"type": "integer"}, "speed": {"type": "number"}, "mode": {"type": "string", "enum": ["auto", "manual"]},
       "note": {"type": "string"}},
     "required": ["heading", "mode"]}},
    {"name": "stop", "parameters": {"type": "object", "properties": {}}}])"), "tools");
}

FunctionCall call(const std::string& name, const char* arguments) { return FunctionCall{name, Json::parse(arguments)}; }

TEST(CallMatching, SameCallMatchesWhateverTheKeyOrder) {
  EXPECT_TRUE(call_matches(call("set_course", R"({"heading": 90, "mode": "auto", "speed": 5.5})"),
                           call("set_course", R"({"speed": 5.5, "mode": "auto", "heading": 90})"), tools()));
}

TEST(CallMatching, EachRuleOnItsOwn) {
  const auto expected = call("set_course", R"({"heading": 90, "mode": "auto"})");
  // Wrong function name.
  EXPECT_FALSE(call_matches(expected, call("stop", R"({"heading": 90, "mode": "auto"})"), tools()));
  // A required argument missing.
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": 90})"), tools()));
  // An argument the function does not have.
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": 90, "mode": "auto", "rudder": 3})"), tools()));
  // An optional argument the expected call leaves out.
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": 90, "mode": "auto", "note": "x"})"), tools()));
  // Types exact: an integer argument given as a float, or as a string.
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": 90.0, "mode": "auto"})"), tools()));
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": "90", "mode": "auto"})"), tools()));
  // Enum values exact (case too).
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": 90, "mode": "Auto"})"), tools()));
  // A different value.
  EXPECT_FALSE(call_matches(expected, call("set_course", R"({"heading": 91, "mode": "auto"})"), tools()));
}

TEST(CallMatching, AnIntegerValueSatisfiesANumberArgument) {
  // JSON Schema's "number" includes integers (BFCL accepts an int for a float parameter too).
  EXPECT_TRUE(call_matches(call("set_course", R"({"heading": 1, "mode": "auto", "speed": 2.0})"),
                           call("set_course", R"({"heading": 1, "mode": "auto", "speed": 2})"), tools()));
}

TEST(CallMatching, FloatsForIntegersAreWrongAtAnyDepth) {
  auto nested = functions::parse_function_definitions(Json::parse(R"([{"name": "plan", "parameters": {"type": "object",
    "properties": {"legs": {"type": "array", "items": {"type": "object", "properties": {"hours": {"type": "integer"}}}}}}}])"), "t");
  const auto expected = call("plan", R"({"legs": [{"hours": 3}]})");
  EXPECT_TRUE(call_matches(expected, call("plan", R"({"legs": [{"hours": 3}]})"), nested));
  EXPECT_FALSE(call_matches(expected, call("plan", R"({"legs": [{"hours": 3.0}]})"), nested));
  // Per-argument scoring applies the same rule.
  ParsedOutput out;
  out.attempted_call = true;
  out.calls = {call("set_course", R"({"heading": 1.0, "mode": "auto"})")};
  TurnScore s = score_turn({call("set_course", R"({"heading": 1, "mode": "auto"})")}, out, tools(), "");
  ASSERT_EQ(s.arguments.size(), 2u);
  EXPECT_EQ(s.arguments[0].name, "heading");
  EXPECT_FALSE(s.arguments[0].correct);
  EXPECT_TRUE(s.arguments[1].correct);
}

TEST(CallMatching, ExpectedOptionalArgumentMustBeThere) {
  EXPECT_FALSE(call_matches(call("set_course", R"({"heading": 1, "mode": "auto", "note": "n"})"),
                            call("set_course", R"({"heading": 1, "mode": "auto"})"), tools()));
}

TEST(TurnScore, OrderOfCallsMatters) {
  std::vector<FunctionCall> expected = {call("stop", "{}"), call("set_course", R"({"heading": 1, "mode": "auto"})")};
  ParsedOutput swapped;
  swapped.attempted_call = true;
  swapped.calls = {expected[1], expected[0]};
  TurnScore s = score_turn(expected, swapped, tools(), "mode");
  EXPECT_FALSE(s.exact_match);
  EXPECT_FALSE(s.names_match);
  ASSERT_EQ(s.arguments.size(), 2u);  // stop has none; set_course two
  EXPECT_FALSE(s.arguments[0].correct);
  EXPECT_FALSE(s.arguments[1].correct);
  EXPECT_TRUE(s.has_confusion);
  EXPECT_EQ(s.expected_label, "auto");
  EXPECT_EQ(s.predicted_label, "auto");

  ParsedOutput right = swapped;
  right.calls = expected;
  TurnScore r = score_turn(expected, right, tools(), "mode");
  EXPECT_TRUE(r.exact_match);
  EXPECT_TRUE(r.names_match);
  EXPECT_TRUE(r.arguments[0].correct && r.arguments[1].correct);
}

TEST(TurnScore, ExtraCallsMissingCallsAndNoCallTurns) {
  std::vector<FunctionCall> expected = {call("set_course", R"({"heading": 1, "mode": "manual"})")};
  ParsedOutput extra;
  extra.attempted_call = true;
  extra.calls = {expected[0], call("stop", "{}")};
  TurnScore e = score_turn(expected, extra, tools(), "");
  EXPECT_FALSE(e.exact_match);
  EXPECT_FALSE(e.names_match);
  EXPECT_TRUE(e.arguments[0].correct && e.arguments[1].correct);  // the aligned call is right
  EXPECT_FALSE(e.has_confusion);

  ParsedOutput answer;
  answer.answer = "Fine.";
  TurnScore a = score_turn({}, answer, tools(), "mode");
  EXPECT_TRUE(a.exact_match);
  EXPECT_FALSE(a.expects_call);
  EXPECT_EQ(a.expected_label, kNoLabel);
  EXPECT_EQ(a.predicted_label, kNoLabel);

  ParsedOutput broken;
  broken.attempted_call = true;
  broken.json_valid = false;
  broken.calls = {expected[0]};  // a good call next to a malformed one earns nothing
  TurnScore b = score_turn(expected, broken, tools(), "mode");
  EXPECT_FALSE(b.exact_match);
  EXPECT_FALSE(b.names_match);
  EXPECT_FALSE(b.arguments[0].correct);
  EXPECT_EQ(b.predicted_label, kInvalidLabel);
  TurnScore nb = score_turn({}, broken, tools(), "mode");
  EXPECT_FALSE(nb.exact_match);
}

TEST(TurnScore, MaritimeEnumsAreExact) {
  auto maritime = functions::parse_function_definitions(
      parse_json(read_file(slmtune::testing::source_dir() / "examples/maritime/functions.json"), "functions.json"), "f");
  const auto expected = call("broadcast_emergency_message",
                             R"({"location": "42.3541N, 71.0654W", "emergency_detail": "Lost Navigation", "emergency_type": "Securité"})");
  EXPECT_TRUE(call_matches(expected, expected, maritime));
  // Without the accent the value is outside the enum.
  EXPECT_FALSE(call_matches(expected, call("broadcast_emergency_message",
      R"({"location": "42.3541N, 71.0654W", "emergency_detail": "Lost Navigation", "emergency_type": "Securite"})"), maritime));
  // The location is compared character for character.
  EXPECT_FALSE(call_matches(expected, call("broadcast_emergency_message",
      R"({"location": "42.3541N,71.0654W", "emergency_detail": "Lost Navigation", "emergency_type": "Securité"})"), maritime));
}

}  // namespace
}  // namespace slmtune::eval
