// The call parser on the three output shapes (Hermes/Qwen2.5 <tool_call> blocks, bare JSON,
// functional tokens), plain answers, and call-shaped text that does not parse.
#include <gtest/gtest.h>

#include "eval/call_parser.hpp"

namespace slmtune::eval {
namespace {

using functions::FunctionCall;

FunctionCall call(const std::string& name, const char* arguments) { return FunctionCall{name, Json::parse(arguments)}; }

TEST(CallParser, QwenToolCallBlocks) {
  // Qwen2.5's chat template writes exactly this layout for two calls.
  auto out = parse_model_output(
      "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Flooding\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": \"42.3541N, 71.0654W\", "
      "\"emergency_detail\": \"Flooding\", \"emergency_type\": \"Mayday\"}}\n</tool_call>");
  EXPECT_TRUE(out.json_valid) << out.error;
  EXPECT_TRUE(out.attempted_call);
  EXPECT_EQ(out.answer, "");
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(out.calls[0], call("categorize_emergency", R"({"emergency_detail": "Flooding"})"));
  EXPECT_EQ(out.calls[1], call("broadcast_emergency_message",
                               R"({"location": "42.3541N, 71.0654W", "emergency_detail": "Flooding", "emergency_type": "Mayday"})"));
}

TEST(CallParser, HermesBlocksWithTextStringArgumentsAndLists) {
  auto out = parse_model_output(
      "Sending the alert now.\n<tool_call>{\"name\": \"a\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call>"
      "<tool_call>[{\"name\": \"b\", \"arguments\": {}}, {\"type\": \"function\", \"function\": {\"name\": \"c\", \"arguments\": {\"y\": [1, 2]}}}]</tool_call>\nStay calm.");
  EXPECT_TRUE(out.json_valid) << out.error;
  EXPECT_EQ(out.answer, "Sending the alert now.\nStay calm.");
  ASSERT_EQ(out.calls.size(), 3u);
  EXPECT_EQ(out.calls[0], call("a", R"({"x": 1})"));
  EXPECT_EQ(out.calls[1], call("b", "{}"));
  EXPECT_EQ(out.calls[2], call("c", R"({"y": [1, 2]})"));
}

TEST(CallParser, UnclosedLastBlockIsReadToTheEnd) {
  auto complete = parse_model_output("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": \"é\"}}\n");
  EXPECT_TRUE(complete.json_valid) << complete.error;
  ASSERT_EQ(complete.calls.size(), 1u);
  EXPECT_EQ(complete.calls[0], call("a", R"({"x": "é"})"));

  auto truncated = parse_model_output("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": ");
  EXPECT_FALSE(truncated.json_valid);
  EXPECT_TRUE(truncated.attempted_call);
  EXPECT_TRUE(truncated.calls.empty());
  EXPECT_NE(truncated.error.find("tool_call 0"), std::string::npos) << truncated.error;
}

TEST(CallParser, MalformedBlocksAreInvalid) {
  for (const char* text : {"<tool_call></tool_call>", "<tool_call>{\"arguments\": {}}</tool_call>",
                           "<tool_call>{\"name\": \"a\", \"arguments\": [1]}</tool_call>",
                           "<tool_call>{\"name\": \"a\", \"arguments\": {}, \"id\": 3}</tool_call>",
                           "<tool_call>\"a\"</tool_call>", "<tool_call>[]</tool_call>",
                           "<tool_call>{\"name\": \"a\"}</tool_call><tool_call>{\"name\": </tool_call>"}) {
    auto out = parse_model_output(text);
    EXPECT_FALSE(out.json_valid) << text;
    EXPECT_TRUE(out.attempted_call) << text;
    EXPECT_FALSE(out.error.empty()) << text;
    EXPECT_EQ(out.error.find('\n'), std::string::npos) << out.error;
  }
}

TEST(CallParser, BareJsonObjectsArraysAndFences) {
  auto object = parse_model_output("  {\"name\": \"a\", \"arguments\": {\"x\": true}}\n");
  EXPECT_TRUE(object.json_valid) << object.error;
  ASSERT_EQ(object.calls.size(), 1u);
  EXPECT_EQ(object.calls[0], call("a", R"({"x": true})"));

  auto array = parse_model_output("[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"parameters\": {\"z\": null}}]");
  EXPECT_TRUE(array.json_valid) << array.error;
  ASSERT_EQ(array.calls.size(), 2u);
  EXPECT_EQ(array.calls[1], call("b", R"({"z": null})"));

  auto fenced = parse_model_output("```json\n[{\"name\": \"a\", \"arguments\": {}}]\n```");
  EXPECT_TRUE(fenced.json_valid) << fenced.error;
  ASSERT_EQ(fenced.calls.size(), 1u);
  EXPECT_EQ(fenced.calls[0].name, "a");
}

TEST(CallParser, BrokenBareJsonIsAnInvalidCall) {
  for (const char* text : {"{\"name\": \"a\", \"arguments\": {\"x\": 1}", "[{\"name\": \"a\"},", "{\"answer\": 3}",
                           "{\"name\": \"a\", \"arguments\": {}} and then some text", "[1, 2]"}) {
    auto out = parse_model_output(text);
    EXPECT_FALSE(out.json_valid) << text;
    EXPECT_TRUE(out.attempted_call) << text;
    EXPECT_TRUE(out.calls.empty()) << text;
  }
}

TEST(CallParser, FunctionalTokens) {
  auto out = parse_model_output(
      "<fn_categorize_emergency>{\"emergency_detail\": \"Fire\"}\n"
      "<fn_broadcast_emergency_message> {\"location\": \"1N, 2W\", \"emergency_detail\": \"Fire {x}\", \"emergency_type\": \"Securité\"}");
  EXPECT_TRUE(out.json_valid) << out.error;
  ASSERT_EQ(out.calls.size(), 2u);
  EXPECT_EQ(out.calls[0], call("categorize_emergency", R"({"emergency_detail": "Fire"})"));
  EXPECT_EQ(out.calls[1], call("broadcast_emergency_message",
                               R"({"location": "1N, 2W", "emergency_detail": "Fire {x}", "emergency_type": "Securité"})"));

  auto nested = parse_model_output("ok <fn_a>{\"q\": \"\\\"}\", \"r\": {\"s\": [1, {}]}} done");
  EXPECT_TRUE(nested.json_valid) << nested.error;
  ASSERT_EQ(nested.calls.size(), 1u);
  EXPECT_EQ(nested.calls[0], call("a", R"({"q": "\"}", "r": {"s": [1, {}]}})"));
  EXPECT_EQ(nested.answer, "ok\ndone");
}

TEST(CallParser, FunctionalTokensWithoutArgumentsAreInvalid) {
  for (const char* text : {"<fn_a>", "<fn_a> hello", "<fn_a>{\"x\": 1", "<fn_a>{\"x\": }", "<fn_a>{\"x\": 1}<fn_b>[1]"}) {
    auto out = parse_model_output(text);
    EXPECT_FALSE(out.json_valid) << text;
    EXPECT_TRUE(out.attempted_call) << text;
  }
}

TEST(CallParser, PlainAnswers) {
  for (const char* text : {"Glad everyone is safe. I am here if anything happens.", "", "  \n",
                           "Use channel 16 <fn_> or <fn_ a> are not tokens", "tool_call is a word here"}) {
    auto out = parse_model_output(text);
    EXPECT_TRUE(out.json_valid) << text;
    EXPECT_FALSE(out.attempted_call) << text;
    EXPECT_TRUE(out.calls.empty()) << text;
  }
  EXPECT_EQ(parse_model_output("  Glad you are safe.\n").answer, "Glad you are safe.");
  // The CSV datasets write "no call" as [], so a model may too.
  auto empty = parse_model_output(" [] ");
  EXPECT_TRUE(empty.json_valid);
  EXPECT_FALSE(empty.attempted_call);
}

}  // namespace
}  // namespace slmtune::eval
