// `slmtune generate --adapter` and `slmtune chat --adapter`: a LoRA adapter attached at run time gives
// the text that the same adapter merged into the base (`slmtune merge`, checked against PEFT's
// merge_and_unload in the merge tests) gives without one, and differs from the base alone.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "model/weights.hpp"
#include "peft/adapter_io.hpp"
#include "peft/lora_model.hpp"
#include "support/test_support.hpp"
#include "tiny_chat_model.hpp"

using slmtune::testing::CommandResult;
using slmtune::testing::expect_one_line_error;
using slmtune::testing::run_slmtune;
using slmtune::testing::run_slmtune_with_input;
using slmtune::testing::shell_quote;
using slmtune::testing::TempDir;

namespace {

class AdapterCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = (dir_->path() / "model").string();
    adapter_ = (dir_->path() / "adapter").string();
    merged_ = (dir_->path() / "merged").string();
    slmtune::testing::make_tiny_chat_model(model_);
    if (::testing::Test::HasFatalFailure()) return;
    // B is non-zero (PEFT initialises it to zero, which would change nothing) on every linear layer.
    auto weights = std::make_shared<const slmtune::ModelWeights>(slmtune::ModelWeights::load(model_));
    slmtune::peft::LoraConfig config;
    config.r = 4;
    config.lora_alpha = 8;
    config.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    slmtune::peft::LoraModel lora(config, weights, 11);
    for (size_t i = 0; i < lora.size(); ++i) {
      auto b = lora.adapter(i).lora_B();
      for (size_t k = 0; k < b.size(); ++k) b[k] = 0.05f * static_cast<float>(static_cast<int>(k % 9) - 4);
    }
    slmtune::peft::save_adapter(lora, adapter_);
    const auto merged = run_slmtune("merge --model " + shell_quote(model_) + " --adapter " + shell_quote(adapter_) +
                                    " --out " + shell_quote(merged_));
    ASSERT_EQ(merged.exit_code, 0) << merged.err;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string generate(const std::string& model, const std::string& extra = "") {
    const auto r = run_slmtune("generate " + shell_quote(model) + extra + " --prompt 'we are taking on water' --max-tokens 8");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  static std::string chat(const std::string& model, const std::string& extra = "") {
    const auto r = run_slmtune_with_input("chat " + shell_quote(model) + extra + " --max-tokens 8",
                                          "fire in the engine room\nthanks, it is out\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_, adapter_, merged_;
};

TEST_F(AdapterCli, GenerateWithTheAdapterEqualsTheMergedModel) {
  const std::string attached = generate(model_, " --adapter " + shell_quote(adapter_));
  EXPECT_EQ(attached, generate(merged_));
  EXPECT_NE(attached, generate(model_));
}

TEST_F(AdapterCli, ChatWithTheAdapterEqualsTheMergedModel) {
  const std::string attached = chat(model_, " --adapter " + shell_quote(adapter_));
  EXPECT_EQ(attached, chat(merged_));
  EXPECT_NE(attached, chat(model_));
}

TEST_F(AdapterCli, MissingAdapterIsOneLine) {
  TempDir empty;
  expect_one_line_error(run_slmtune("generate " + shell_quote(model_) + " --adapter " + shell_quote(empty.path() / "none") +
                                    " --prompt hi"),
                        "no such adapter directory");
  expect_one_line_error(
      run_slmtune_with_input("chat " + shell_quote(model_) + " --adapter " + shell_quote(empty.path()), "hi\n"),
      "adapter_config.json");
}

}  // namespace
