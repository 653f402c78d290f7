// models/maritime-lm/attention_probe.py, the PyTorch probe behind the model README's analysis of the
// copying circuit: on the bundled model its logits must be `slmtune logits`' (an independent float64
// implementation of LlamaForCausalLM against ours, on the real bf16 weights), its attention rows must be
// distributions over the positions up to the last, and bad input must get one clear line. Skipped where
// Debian's python3-torch is missing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

#include "support/test_support.hpp"

namespace {

using slmtune::testing::expect_one_line_error;
using slmtune::testing::run_command;
using slmtune::testing::run_slmtune;
using slmtune::testing::shell_quote;
using slmtune::testing::source_dir;
using slmtune::testing::TempDir;
using slmtune::testing::write_text;

const std::string kModel = shell_quote(source_dir() / "models/maritime-lm");

// A call half written: the next token is the longitude's hemisphere letter.
const std::string kPrompt =
    "<|im_start|>system\nThe boat's GPS position is 61.1035S, 87.9761E.<|im_end|>\n<|im_start|>user\nfire on "
    "board!<|im_end|>\n<|im_start|>assistant\n<fn_broadcast_emergency_message>{\"location\": \"61.1035S, 87.9761";

std::string probe(const std::string& arguments) {
  return "/usr/bin/python3 " + shell_quote(source_dir() / "models/maritime-lm/attention_probe.py") + " " + arguments;
}

bool have_torch() { return run_command("/usr/bin/python3 -c 'import torch' 2>/dev/null").exit_code == 0; }

TEST(AttentionProbe, LogitsMatchSlmtuneOnTheBundledModelAndEveryHeadIsADistribution) {
  if (!have_torch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  TempDir dir;
  write_text(dir / "prompt.txt", kPrompt);
  const auto ids = run_slmtune("tokenize " + kModel + " --parse-special --file " + shell_quote(dir / "prompt.txt"));
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  const auto ours = run_slmtune("logits " + kModel + " --text \"$(cat " + shell_quote(dir / "prompt.txt") +
                                ")\" --top 5 --json");
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  const auto theirs = run_command(probe(kModel + " --ids '" + ids.out + "' --top 1000 --json"));
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;

  const auto expected = nlohmann::json::parse(ours.out);
  const auto probed = nlohmann::json::parse(theirs.out);
  const size_t length = expected.at("tokens").size();
  ASSERT_GT(length, 40u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(probed["top"][i]["id"], expected["top"][i]["id"]) << "rank " << i;
    EXPECT_NEAR(probed["top"][i]["logit"].get<double>(), expected["top"][i]["logit"].get<double>(), 2e-3) << "rank " << i;
  }
  ASSERT_EQ(probed.at("attention").size(), 4u);  // layers
  for (const auto& layer : probed["attention"]) {
    ASSERT_EQ(layer.size(), 8u);  // query heads
    for (const auto& head : layer) {
      ASSERT_EQ(head.size(), length);  // --top beyond the length lists every position
      double total = 0.0, previous = 1.0;
      for (const auto& entry : head) {
        const double weight = entry.at("weight").get<double>();
        EXPECT_GE(weight, 0.0);
        EXPECT_LE(weight, previous);
        EXPECT_LT(entry.at("position").get<size_t>(), length);
        total += previous = weight;
      }
      EXPECT_NEAR(total, 1.0, 1e-9);
    }
  }
}

TEST(AttentionProbe, RefusesOtherArchitecturesAndIdsOutsideTheVocabulary) {
  if (!have_torch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  TempDir dir;
  write_text(dir / "config.json", R"({"model_type": "qwen2", "vocab_size": 10})");
  expect_one_line_error(run_command(probe(shell_quote(dir.path()) + " --ids '1 2'")), "follows LlamaForCausalLM only");
  expect_one_line_error(run_command(probe(kModel + " --ids '1 2048'")), "--ids: expected 1 or more ids in [0, 2048)");
  expect_one_line_error(run_command(probe(kModel + " --ids 'one two'")), "--ids: expected token ids");
}

}  // namespace
