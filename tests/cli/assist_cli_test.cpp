// `slmtune assist` end to end on a tiny random Llama: which system prompt and functions it uses
// (explicit file, the model's own, the repo's example when run from the repo root), that the prompt
// carries the GPS position, the user's words and the definitions, that stdout holds only the reply,
// and the one-line errors. (What a trained model's calls turn into — the radio message — is checked
// by tests/eval/radio_message_test.cpp; a random model does not call functions.)
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"
#include "tiny_chat_model.hpp"

using slmtune::testing::CommandResult;
using slmtune::testing::expect_one_line_error;
using slmtune::testing::run_slmtune;
using slmtune::testing::shell_quote;
using slmtune::testing::source_dir;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;
using slmtune::testing::write_text;

namespace {

const char* const kGps = "42.3541N, 71.0654W";

// run_slmtune with `dir` as the working directory.
CommandResult run_in(const std::filesystem::path& dir, const std::string& arguments) {
  TempDir scratch;
  const std::string command = "cd " + shell_quote(dir) + " && '" + SLMTUNE_BINARY + "' " + arguments + " </dev/null >" +
                              shell_quote(scratch / "out") + " 2>" + shell_quote(scratch / "err");
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slmtune::read_file(scratch / "out");
  result.err = slmtune::read_file(scratch / "err");
  return result;
}

class AssistCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = (dir_->path() / "model").string();
    slmtune::testing::make_tiny_chat_model(model_);
    if (::testing::Test::HasFatalFailure()) return;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // `global` goes before the subcommand (-v, -q), `extra` after it.
  static std::string args(const std::string& extra = "", const std::string& global = "") {
    return global + " assist --model " + shell_quote(model_) + " --gps '" + kGps + "' --max-new-tokens 8 " + extra +
           " 'we are taking on water, help'";
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_;
};

TEST_F(AssistCli, FromTheRepoRootUsesTheMaritimeExample) {
  const auto r = run_in(source_dir(), args("", "-vv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The prompt: the repo's system prompt filled with the position, Qwen2.5's tools block, the message.
  EXPECT_NE(r.err.find("examples/maritime/system_prompt.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("The boat's GPS position is 42.3541N, 71.0654W."), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"categorize_emergency\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("<|im_start|>user\nwe are taking on water, help<|im_end|>\n<|im_start|>assistant\n"), std::string::npos) << r.err;
  // stdout: only the reply (a random model answers in plain text).
  const size_t reply = r.err.find("debug: reply:\n");
  ASSERT_NE(reply, std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("error"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("warning"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("<|im_start|>"), std::string::npos) << r.out;
}

TEST_F(AssistCli, ExplicitFilesAndTheModelsOwnAreUsed) {
  TempDir files;
  write_text(files / "sys.txt", "Custom prompt. Position: {{ gps }}.\n");
  write_text(files / "fns.json", R"([{"name": "call_harbour", "parameters": {"type": "object", "properties": {}}}])");
  const auto r = run_in(files.path(), args("--system-file sys.txt --functions fns.json", "-vv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Custom prompt. Position: 42.3541N, 71.0654W."), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"name\": \"call_harbour\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("categorize_emergency"), std::string::npos) << r.err;

  // Files beside the model are preferred to the repo's example.
  TempDir model_copy;
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(std::filesystem::path(model_) / name, model_copy / name);
  write_text(model_copy / "system_prompt.txt", "Model's own prompt at {{ gps }}.");
  std::filesystem::copy_file(files / "fns.json", model_copy / "functions.json");
  const auto own = run_in(source_dir(), "-vv assist --model " + shell_quote(model_copy.path()) + " --gps '1N, 2W' --max-new-tokens 4 'hello'");
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_NE(own.err.find("Model's own prompt at 1N, 2W."), std::string::npos) << own.err;
  EXPECT_NE(own.err.find("call_harbour"), std::string::npos) << own.err;
}

TEST_F(AssistCli, SameReplyAsTheDefaultsGiveExplicitly) {
  // Greedy: the default files and the same files named explicitly give the same stdout.
  const auto implicit = run_in(source_dir(), args());
  const auto named = run_in(source_dir(), args("--system-file examples/maritime/system_prompt.txt --functions examples/maritime/functions.json"));
  ASSERT_EQ(implicit.exit_code, 0) << implicit.err;
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(implicit.out, named.out);
}

TEST_F(AssistCli, OneLineErrors) {
  TempDir elsewhere;
  expect_one_line_error(run_in(elsewhere.path(), args()), "--system-file");
  write_text(elsewhere / "sys.txt", "Boat {{ boat_name }} at {{ gps }}");
  expect_one_line_error(run_in(elsewhere.path(), args("--system-file sys.txt --functions " +
                                                      shell_quote(source_dir() / "examples/maritime/functions.json"))),
                        "boat_name");
  expect_one_line_error(run_in(source_dir(), "assist --model " + shell_quote(model_) + " --gps '1N, 2W' '   '"), "MESSAGE");
  expect_one_line_error(run_in(source_dir(), args("--prompt-format octopus")), "octopus");
  write_text(elsewhere / "bad.json", "[{\"name\": }]");
  expect_one_line_error(run_in(source_dir(), args("--functions " + shell_quote(elsewhere / "bad.json"))), "bad.json");
}

}  // namespace
