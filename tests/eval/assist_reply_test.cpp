// What assist prints for a reply, from the model's raw text to stdout: the calls, then the radio
// message (written out by hand from the GMDSS procedure), and the warnings and errors around them.
#include <gtest/gtest.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "eval/assist_reply.hpp"
#include "support/test_support.hpp"

namespace slmtune::eval {
namespace {

std::vector<functions::FunctionDefinition> maritime() {
  return functions::parse_function_definitions(
      parse_json(read_file(slmtune::testing::source_dir() / "examples/maritime/functions.json"), "functions.json"), "f");
}

const char* const kFlooding =
    "<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Flooding\"}}\n</tool_call>\n"
    "<tool_call>\n{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": \"42.3541N, 71.0654W\", "
    "\"emergency_detail\": \"Flooding\", \"emergency_type\": \"Mayday\"}}\n</tool_call>";

TEST(AssistReply, CallsThenTheMaydayMessage) {
  AssistOutput out = assist_output(kFlooding, maritime(), "42.3541N, 71.0654W", "Sea Breeze");
  EXPECT_EQ(out.text,
            "{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Flooding\"}}\n"
            "{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": \"42.3541N, 71.0654W\", "
            "\"emergency_detail\": \"Flooding\", \"emergency_type\": \"Mayday\"}}\n"
            "\n"
            "MAYDAY MAYDAY MAYDAY\n"
            "THIS IS SEA BREEZE SEA BREEZE SEA BREEZE\n"
            "MAYDAY SEA BREEZE\n"
            "MY POSITION IS 42.3541N, 71.0654W\n"
            "TAKING ON WATER\n"
            "I REQUIRE IMMEDIATE ASSISTANCE\n"
            "OVER\n");
  EXPECT_TRUE(out.warnings.empty());
}

TEST(AssistReply, AnotherPositionIsSpokenButWarnedAbout) {
  AssistOutput out = assist_output(kFlooding, maritime(), "42.3541N, 71.0655W", "Kestrel");
  EXPECT_NE(out.text.find("MY POSITION IS 42.3541N, 71.0654W\n"), std::string::npos) << out.text;
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_NE(out.warnings[0].find("\"42.3541N, 71.0655W\""), std::string::npos) << out.warnings[0];
}

TEST(AssistReply, PlainAnswersAndCallsWithoutABroadcast) {
  AssistOutput answer = assist_output("Glad you are all safe. I am here if anything happens.<|im_end|>", maritime(), "1N, 2W", "K");
  EXPECT_EQ(answer.text, "Glad you are all safe. I am here if anything happens.<|im_end|>\n");
  EXPECT_TRUE(answer.warnings.empty());

  AssistOutput empty = assist_output("  \n", maritime(), "1N, 2W", "K");
  EXPECT_EQ(empty.text, "");
  ASSERT_EQ(empty.warnings.size(), 1u);

  AssistOutput only = assist_output("<tool_call>{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Fire\"}}</tool_call>",
                                    maritime(), "1N, 2W", "K");
  EXPECT_EQ(only.text, "{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": \"Fire\"}}\n");
  ASSERT_EQ(only.warnings.size(), 1u);
  EXPECT_NE(only.warnings[0].find("no radio message"), std::string::npos);
}

TEST(AssistReply, MalformedOrOffSchemaCallsAreOneLineErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<tool_call>\n{\"name\": \"categorize_emergency\", \"arguments\": {\"emergency_detail\": ", "malformed call"},
      {"<tool_call>{\"name\": \"call_the_coastguard\", \"arguments\": {}}</tool_call>", "call_the_coastguard"},
      {"<tool_call>{\"name\": \"broadcast_emergency_message\", \"arguments\": {\"location\": \"1N\", \"emergency_detail\": "
       "\"Fire\", \"emergency_type\": \"MAYDAY\"}}</tool_call>", "emergency_type"},
  };
  for (const auto& [reply, fragment] : cases) {
    try {
      assist_output(reply, maritime(), "1N", "K");
      ADD_FAILURE() << "expected an error for " << reply;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace slmtune::eval
