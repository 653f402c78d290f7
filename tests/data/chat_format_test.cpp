// The two prompt formats: an Example rendered for the chat template, compared with hand-written JSON
// (the OpenAI chat format for definitions_in_prompt, the Octopus-style text for functional_tokens).
#include <gtest/gtest.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/chat_format.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "support/test_support.hpp"

namespace slmtune::data {
namespace {

const char* const kTools = R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather at a place",
   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "get_tide",
   "parameters": {"type": "object", "properties": {"port": {"type": "string"}, "days": {"type": "integer"}}}}}])";

Example multi_turn_example() {
  // A chat JSONL conversation: a call, its result, a plain answer, then two calls in one turn.
  std::string line = std::string(R"({"tools": )") + kTools + R"(, "messages": [
    {"role": "user", "content": "Weather in Oslo?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "rain"},
    {"role": "assistant", "content": "It rains in Oslo."},
    {"role": "user", "content": "And Bergen, plus the tide there for 2 days?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
      {"name": "get_weather", "arguments": {"city": "Bergen"}},
      {"name": "get_tide", "arguments": {"port": "Bergen", "days": 2}}]}]})";
  for (auto& c : line)
    if (c == '\n') c = ' ';
  auto dataset = parse_dataset(line + "\n", DatasetFormat::jsonl, "chat.jsonl");
  EXPECT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  return dataset.examples.at(0);
}

TEST(PromptFormat, ParsesBothNamesAndRefusesOthers) {
  EXPECT_EQ(parse_prompt_format("definitions_in_prompt"), PromptFormat::definitions_in_prompt);
  EXPECT_EQ(parse_prompt_format("functional_tokens"), PromptFormat::functional_tokens);
  EXPECT_STREQ(prompt_format_name(PromptFormat::functional_tokens), "functional_tokens");
  try {
    parse_prompt_format("octopus");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("\"octopus\""), std::string::npos) << message;
    EXPECT_NE(message.find("definitions_in_prompt or functional_tokens"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

TEST(ChatFormat, DefinitionsInPromptIsTheOpenAiChatForm) {
  ChatMessages chat = to_chat_messages(multi_turn_example(), PromptFormat::definitions_in_prompt);
  Json expected_messages = Json::parse(R"([
    {"role": "user", "content": "Weather in Oslo?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
    {"role": "tool", "content": "rain", "tool_call_id": "c1"},
    {"role": "assistant", "content": "It rains in Oslo."},
    {"role": "user", "content": "And Bergen, plus the tide there for 2 days?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
      {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Bergen"}}},
      {"type": "function", "function": {"name": "get_tide", "arguments": {"port": "Bergen", "days": 2}}}]}])");
  EXPECT_EQ(chat.messages, expected_messages) << chat.messages.dump(1);
  Json expected_tools = Json::parse(kTools);
  EXPECT_EQ(chat.tools, expected_tools) << chat.tools.dump(1);
  // Key order matters to templates that print JSON: role, content, tool_calls; type, function.
  EXPECT_EQ(chat.messages[1].dump(), expected_messages[1].dump());
}

TEST(ChatFormat, FunctionalTokensPutCallsInTheTextAndNoTools) {
  ChatMessages chat = to_chat_messages(multi_turn_example(), PromptFormat::functional_tokens);
  Json expected_messages = Json::parse(R"([
    {"role": "user", "content": "Weather in Oslo?"},
    {"role": "assistant", "content": "<fn_get_weather>{\"city\": \"Oslo\"}"},
    {"role": "tool", "content": "rain", "tool_call_id": "c1"},
    {"role": "assistant", "content": "It rains in Oslo."},
    {"role": "user", "content": "And Bergen, plus the tide there for 2 days?"},
    {"role": "assistant", "content": "Checking.\n<fn_get_weather>{\"city\": \"Bergen\"}\n<fn_get_tide>{\"port\": \"Bergen\", \"days\": 2}"}])");
  EXPECT_EQ(chat.messages, expected_messages) << chat.messages.dump(1);
  EXPECT_TRUE(chat.tools.is_null());
}

TEST(ChatFormat, MaritimeCsvRowKeepsTheFilledSystemMessageAndUnicodeEnums) {
  std::string functions = read_file(slmtune::testing::source_dir() / "examples/maritime/functions.json");
  std::string text = csv_record({"function_definitions", "user_query", "function_call", "gps"}) +
                     csv_record({functions, "small fire in the galley, we have it under control",
                                 R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": "Fire"}}, )"
                                 R"({"name": "broadcast_emergency_message", "arguments": {"location": "1N, 2W", )"
                                 R"("emergency_detail": "Fire", "emergency_type": "Securité"}}])",
                                 "1N, 2W"});
  LoadOptions options;
  options.system_template = "Position {{ gps }}.";
  auto dataset = parse_dataset(text, DatasetFormat::csv, "m.csv", options);
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  const Example& example = dataset.examples.at(0);

  ChatMessages fn = to_chat_messages(example, PromptFormat::functional_tokens);
  ASSERT_EQ(fn.messages.size(), 3u);
  EXPECT_EQ(fn.messages[0], Json::parse(R"({"role": "system", "content": "Position 1N, 2W."})"));
  EXPECT_EQ(fn.messages[2]["content"].get<std::string>(),
            "<fn_categorize_emergency>{\"emergency_detail\": \"Fire\"}\n"
            "<fn_broadcast_emergency_message>{\"location\": \"1N, 2W\", \"emergency_detail\": \"Fire\", "
            "\"emergency_type\": \"Securit\xC3\xA9\"}");

  ChatMessages defs = to_chat_messages(example, PromptFormat::definitions_in_prompt);
  EXPECT_EQ(defs.tools, Json::parse(functions));
  EXPECT_EQ(defs.messages[2]["tool_calls"][1]["function"]["arguments"]["emergency_type"], "Securit\xC3\xA9");

  EXPECT_EQ(functional_token_names(example.tools),
            (std::vector<std::string>{"<fn_categorize_emergency>", "<fn_broadcast_emergency_message>"}));
}

TEST(ChatFormat, FunctionalTokenNamesOfADatasetAreUniqueInFirstSeenOrder) {
  Example a, b;
  a.tools = functions::parse_function_definitions(Json::parse(kTools), "t");
  b.tools = {functions::FunctionDefinition{"get_tide", "", Json::object()},
             functions::FunctionDefinition{"set_anchor", "", Json::object()}};
  EXPECT_EQ(functional_token_names(std::vector<Example>{a, b}),
            (std::vector<std::string>{"<fn_get_weather>", "<fn_get_tide>", "<fn_set_anchor>"}));
}

TEST(ChatFormat, NoToolsMeansNullTools) {
  Example e;
  e.messages.push_back(Message{"user", "hi", {}, ""});
  e.messages.push_back(Message{"assistant", "hello", {}, ""});
  ChatMessages chat = to_chat_messages(e, PromptFormat::definitions_in_prompt);
  EXPECT_TRUE(chat.tools.is_null());
  EXPECT_EQ(chat.messages, Json::parse(R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])"));
}

}  // namespace
}  // namespace slmtune::data
