#include <gtest/gtest.h>

#include <string>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "support/test_support.hpp"
#include "train/train_config.hpp"

using namespace slmtune::train;

namespace {

const std::string kMinimal = "model: models/tiny\ndata:\n  train: data/train.jsonl\n";

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_train_config(yaml, "c.yaml", overrides);
  } catch (const slmtune::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(TrainConfig, DefaultsFillWhatTheFileLeavesOut) {
  const TrainConfig c = parse_train_config(kMinimal, "c.yaml");
  EXPECT_EQ(c.model, "models/tiny");
  EXPECT_EQ(c.data.train, "data/train.jsonl");
  EXPECT_EQ(c.method, "lora");
  EXPECT_EQ(c.lora.r, 16);
  EXPECT_DOUBLE_EQ(c.lora.lora_alpha, 32);
  EXPECT_EQ(c.lora.target_modules, std::vector<std::string>{"all-linear"});
  EXPECT_DOUBLE_EQ(c.learning_rate, 2e-4);
  EXPECT_EQ(c.lr_scheduler_type, "linear");
  EXPECT_EQ(c.max_steps, 0);
  EXPECT_EQ(c.train_on, "assistant");
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.optimizer.name, "adamw");
  EXPECT_NE(c.resolved_yaml.find("max_seq_len: 2048"), std::string::npos) << c.resolved_yaml;
}

TEST(TrainConfig, FileValuesAndNestedSections) {
  const TrainConfig c = parse_train_config(kMinimal +
                                               "method: dora\nlora:\n  r: 8\n  lora_alpha: 16\n  target_modules: [q_proj, v_proj]\n"
                                               "  use_rslora: true\nlearning_rate: 1e-3\noptimizer:\n  name: adamw_8bit\n"
                                               "early_stopping:\n  patience: 3\n  min_delta: 0.01\ndata:\n  train: t.jsonl\n  validation: v.jsonl\n",
                                           "c.yaml");
  EXPECT_EQ(c.method, "dora");
  EXPECT_TRUE(c.lora.use_dora);  // implied by the method
  EXPECT_EQ(c.lora.r, 8);
  EXPECT_EQ(c.lora.target_modules, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_TRUE(c.lora.use_rslora);
  EXPECT_DOUBLE_EQ(c.learning_rate, 1e-3);
  EXPECT_EQ(c.optimizer.name, "adamw_8bit");
  EXPECT_EQ(c.early_stopping.patience, 3);
  EXPECT_EQ(c.data.validation, "v.jsonl");
}

TEST(TrainConfig, SetOverridesWinIncludingNestedKeys) {
  const TrainConfig c = parse_train_config(kMinimal + "max_steps: 100\n", "c.yaml",
                                           {"max_steps=3", "output_dir=runs/x", "lora.r=4", "lora.target_modules=[fc1, fc2]",
                                            "packing=false", "chat_template=1e5"});
  EXPECT_EQ(c.max_steps, 3);
  EXPECT_EQ(c.output_dir, "runs/x");
  EXPECT_EQ(c.lora.r, 4);
  EXPECT_EQ(c.lora.target_modules, (std::vector<std::string>{"fc1", "fc2"}));
  EXPECT_EQ(c.chat_template, "1e5");  // strings stay as written
  EXPECT_NE(c.resolved_yaml.find("max_steps: 3"), std::string::npos);
}

TEST(TrainConfig, UnknownKeysNameTheClosestValidOne) {
  EXPECT_EQ(error_of(kMinimal + "learning_rat: 1e-4\n"), "c.yaml:4:1: unknown key 'learning_rat' (did you mean 'learning_rate'?)");
  EXPECT_EQ(error_of(kMinimal + "lora:\n  rr: 4\n"), "c.yaml:5:3: unknown key 'lora.rr' (did you mean 'lora.r'?)");
  EXPECT_EQ(error_of(kMinimal + "lora:\n  lora_alfa: 4\n"),
            "c.yaml:5:3: unknown key 'lora.lora_alfa' (did you mean 'lora.lora_alpha'?)");
  EXPECT_EQ(error_of(kMinimal, {"max_step=3"}), "--set max_step=3: unknown key 'max_step' (did you mean 'max_steps'?)");
  EXPECT_EQ(error_of(kMinimal, {"gradient_accumulation=2"}),
            "--set gradient_accumulation=2: unknown key 'gradient_accumulation' (did you mean 'gradient_accumulation_steps'?)");
}

TEST(TrainConfig, BadValuesSayWhatWasExpected) {
  EXPECT_EQ(error_of(kMinimal + "lora:\n  r: many\n"), "c.yaml:5:6: lora.r: expected an integer, got 'many'");
  EXPECT_EQ(error_of(kMinimal + "method: prefix\n"), "c.yaml:4:9: method: expected one of full lora dora qlora, got 'prefix'");
  EXPECT_EQ(error_of(kMinimal, {"lora.r=0"}), "c.yaml: lora.r: expected a value > 0, got 0");
  EXPECT_EQ(error_of(kMinimal + "lora: 3\n"), "c.yaml:4:1: lora: expected a mapping of its keys");
  EXPECT_EQ(error_of("data:\n  train: x\n"), "c.yaml: model: required (a model folder or .gguf file)");
  EXPECT_EQ(error_of("model: [a\n").find("c.yaml:2:1: invalid YAML"), 0u) << error_of("model: [a\n");
  EXPECT_EQ(error_of(kMinimal, {"max_steps"}), "--set max_steps: expected key=value");
  EXPECT_EQ(error_of(kMinimal + "warmup_ratio: 2\n"), "c.yaml: warmup_ratio: expected a value in [0, 1], got 2");
}

TEST(TrainConfig, ResolvedYamlReadsBackTheSame) {
  const TrainConfig c = parse_train_config(kMinimal, "c.yaml", {"lora.r=8", "learning_rate=5e-5"});
  const TrainConfig again = parse_train_config(c.resolved_yaml, "resolved.yaml");
  EXPECT_EQ(again.resolved_yaml, c.resolved_yaml);
  EXPECT_EQ(again.lora.r, 8);
  EXPECT_DOUBLE_EQ(again.learning_rate, 5e-5);
}

TEST(TrainConfig, EveryKeyIsDocumentedWithItsDefault) {
  const std::string docs = slmtune::read_file(slmtune::testing::source_dir() / "docs/config.md");
  for (const auto& key : config_keys()) {
    const std::string shown = key.default_yaml == "~" ? "required" : key.default_yaml;
    const std::string row = "| `" + key.name + "` | `" + shown + "` |";
    EXPECT_NE(docs.find(row), std::string::npos) << "docs/config.md lacks the row starting " << row;
  }
}
