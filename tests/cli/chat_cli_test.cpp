// `slmtune chat` end to end with stdin piped: each line is a user turn, each reply one printed line;
// the first reply equals `generate` over the prompt that `slmtune template` renders for the same
// conversation (the phi3 GGUF's own template), and the later turn sees the earlier ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_support.hpp"

using slmtune::testing::shell_quote;

using slmtune::testing::CommandResult;
using slmtune::testing::run_slmtune;
using slmtune::testing::run_slmtune_with_input;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;
using slmtune::testing::write_text;

namespace {

const std::string kLlama = shell_quote(testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"));
const std::string kPhi3 = shell_quote(testdata("models/tiny-random-gguf/tiny-random-phi3.gguf"));

TEST(ChatCli, FirstReplyEqualsGenerateOverTheRenderedTemplate) {
  TempDir dir;
  write_text(dir / "messages.json", R"([{"role": "user", "content": "What is the capital of France?"}])");
  const auto rendered = run_slmtune("template " + kPhi3 + " --messages " + shell_quote(dir / "messages.json") +
                                    " --add-generation-prompt");
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  ASSERT_EQ(rendered.out.find('\''), std::string::npos);
  const auto generated = run_slmtune("generate " + kPhi3 + " --max-tokens 8 --prompt '" + rendered.out + "'");
  ASSERT_EQ(generated.exit_code, 0) << generated.err;

  const auto chat = run_slmtune_with_input("chat " + kPhi3 + " --max-tokens 8", "What is the capital of France?\n");
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_EQ(chat.out, generated.out);
}

// Prompt lengths of each turn, from the debug log ("chat: N prompt tokens, ...").
std::vector<int> prompt_lengths(const std::string& err) {
  std::vector<int> lengths;
  for (size_t at = err.find("chat: "); at != std::string::npos; at = err.find("chat: ", at + 1))
    lengths.push_back(std::stoi(err.substr(at + 6)));
  return lengths;
}

TEST(ChatCli, EveryPipedLineIsATurnAndLaterTurnsSeeEarlierOnes) {
  // Blank lines are skipped; the second turn's prompt holds the first exchange, so it is longer than
  // the prompt of a conversation that starts with "Hi"; with a built-in template in place of the
  // model's own.
  const auto two = run_slmtune_with_input("-v -v chat " + kPhi3 + " --chat-template chatml --max-tokens 6", "Hello\n\nHi\n");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto one = run_slmtune_with_input("-v -v chat " + kPhi3 + " --chat-template chatml --max-tokens 6", "Hi\n");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto first = run_slmtune_with_input("chat " + kPhi3 + " --chat-template chatml --max-tokens 6", "Hello\n");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(two.out.rfind(first.out, 0), 0u) << "the first turn's reply starts the output";
  EXPECT_GT(two.out.size(), first.out.size());
  const std::vector<int> two_turns = prompt_lengths(two.err), one_turn = prompt_lengths(one.err);
  ASSERT_EQ(two_turns.size(), 2u) << two.err;
  ASSERT_EQ(one_turn.size(), 1u) << one.err;
  EXPECT_GT(two_turns[1], two_turns[0] + one_turn[0] - 2) << "the second turn did not include the first exchange";
}

// The Llama GGUF carries no tokenizer.chat_template.
TEST(ChatCli, ModelWithoutTemplateAsksForOne) {
  const auto result = run_slmtune_with_input("chat " + kLlama, "Hi\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("--chat-template"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << result.err;
  const auto unknown = run_slmtune_with_input("chat " + kLlama + " --chat-template nosuch", "Hi\n");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << unknown.err;
}

}  // namespace
