// What eval and assist take from a training run's directory: its train_config.yaml's prompt_format and
// data.system_prompt, files beside the adapter before those beside the model, explicit choices first.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "eval/loaded_model.hpp"
#include "support/test_support.hpp"

namespace slmtune::eval {
namespace {

using slmtune::testing::TempDir;
using slmtune::testing::write_text;

TEST(RunFiles, PromptFormatFromTheRunConfigUnlessGiven) {
  TempDir run, model;
  ModelSource source{model.path(), run.path(), "", ""};
  EXPECT_EQ(choose_prompt_format(source, ""), data::PromptFormat::definitions_in_prompt);
  write_text(run / "train_config.yaml", "model: m\nprompt_format: functional_tokens\ndata:\n  train: t.csv\n");
  EXPECT_EQ(choose_prompt_format(source, ""), data::PromptFormat::functional_tokens);
  EXPECT_EQ(choose_prompt_format(source, "definitions_in_prompt"), data::PromptFormat::definitions_in_prompt);
  write_text(run / "train_config.yaml", "prompt_format: octopus\n");
  try {
    choose_prompt_format(source, "");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train_config.yaml: prompt_format"), std::string::npos) << e.what();
  }
}

TEST(RunFiles, SystemPromptBesideTheRunThenNamedByItsConfigThenBesideTheModel) {
  TempDir run, model;
  ModelSource source{model.path(), run.path(), "", ""};
  EXPECT_TRUE(find_system_prompt(source).empty());
  write_text(model / "system_prompt.txt", "model's");
  EXPECT_EQ(find_system_prompt(source), model / "system_prompt.txt");
  // A config naming a file relative to itself.
  write_text(run / "train_config.yaml", "data:\n  system_prompt: prompts/sys.txt\n");
  std::filesystem::create_directories(run / "prompts");
  write_text(run / "prompts/sys.txt", "run's");
  EXPECT_EQ(find_system_prompt(source), run / "prompts/sys.txt");
  write_text(run / "system_prompt.txt", "run's own");
  EXPECT_EQ(find_system_prompt(source), run / "system_prompt.txt");
  EXPECT_EQ(find_run_file(source, "system_prompt.txt"), run / "system_prompt.txt");
  EXPECT_TRUE(find_run_file(source, "functions.json").empty());
}

}  // namespace
}  // namespace slmtune::eval
