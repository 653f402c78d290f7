#pragma once
// The training configuration: a YAML file (yaml-cpp) plus `--set key=value` overrides with dotted
// keys for nested sections ("lora.r=8"). Every key, its type, default and meaning is in one table
// (config_keys()), which validates input, fills defaults, suggests the closest key for a typo and is
// checked against docs/config.md by a test.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace slmtune::train {

enum class KeyType { string, integer, number, boolean, string_list, choice };

struct ConfigKey {
  std::string name;            // dotted: "lora.r"
  KeyType type;
  std::string default_yaml;    // the default as YAML text; "~" = required / unset
  std::vector<std::string> choices;  // for KeyType::choice
  std::string help;
};

const std::vector<ConfigKey>& config_keys();

struct LoraSettings {
  int64_t r = 16;
  double lora_alpha = 32;
  double lora_dropout = 0.05;
  std::vector<std::string> target_modules;
  std::string bias = "none";
  bool use_rslora = false;
  bool use_dora = false;
};

struct EarlyStopping {
  int64_t patience = 0;  // 0 = off
  double min_delta = 0.0;
  std::string metric = "eval_loss";
  bool greater_is_better = false;
};

struct OptimizerConfig {
  std::string name = "adamw";
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0, momentum = 0.9;
  bool paged = false;
};

struct DataConfig {
  std::string train;
  std::string validation;
  double validation_split = 0.0;
  std::string format;         // auto | chat | function_calling
  std::string system_prompt;  // file with the system message template ("" = none)
};

struct TrainConfig {
  std::string model;
  std::string output_dir;
  std::string method;
  std::string adapter;  // a PEFT adapter folder to continue from ("" = a fresh adapter)
  LoraSettings lora;
  OptimizerConfig optimizer;
  double learning_rate = 0;
  std::string lr_scheduler_type;
  int64_t warmup_steps = 0;
  double warmup_ratio = 0;
  int64_t num_train_epochs = 1;
  int64_t max_steps = 0;
  int64_t batch_size = 1;
  int64_t gradient_accumulation_steps = 1;
  double max_grad_norm = 0;
  int64_t logging_steps = 0;
  int64_t eval_steps = 0;
  int64_t save_steps = 0;
  bool task_metrics = false;         // generate and score function calls at each evaluation
  int64_t task_max_new_tokens = 128;
  EarlyStopping early_stopping;
  uint64_t seed = 0;
  int64_t threads = 0;
  int64_t max_seq_len = 0;
  bool packing = false;
  bool recompute = false;
  std::string train_on;
  std::string pad_token;
  std::string chat_template;
  std::string prompt_format;  // definitions_in_prompt | functional_tokens
  DataConfig data;

  std::string resolved_yaml;  // the whole configuration after defaults and overrides
};

// `overrides` are "key=value" strings (value parsed as YAML: numbers, booleans, [a, b] lists).
TrainConfig load_train_config(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
TrainConfig parse_train_config(std::string_view yaml, const std::string& origin,
                               const std::vector<std::string>& overrides = {});

// Levenshtein distance, for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace slmtune::train
