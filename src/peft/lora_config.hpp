#pragma once
// PEFT's LoraConfig as one plain struct with PEFT's key names (so adapter_config.json and users'
// YAML carry over), validated once, and the resolution of target_modules to the model's linear
// layers exactly as PEFT matches them:
//   - a list: a module is targeted when its full name equals an entry or ends with "." + entry
//     ("q_proj" and "model.layers.0.self_attn.q_proj" both work);
//   - a string: a regular expression that must match the WHOLE module name (Python's re.fullmatch);
//   - "all-linear": every linear layer of the blocks; the output layer (lm_head) is excluded.
// Unlike PEFT, a list entry that matches nothing is an error (PEFT only fails when nothing at all
// matches), because a misspelt "qproj" otherwise silently trains fewer modules than asked.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "model/config.hpp"

namespace slmtune::peft {

enum class LoraBias { None, LoraOnly, All };  // "none" | "lora_only" | "all"
enum class LoraInit { Default, Gaussian, Zero }; // init_lora_weights: true | "gaussian" | false

struct LoraConfig {
  int64_t r = 8;
  double lora_alpha = 8.0;
  double lora_dropout = 0.0;
  std::vector<std::string> target_modules;  // a list of names …
  std::optional<std::string> target_regex;  // … or one string (a regex, or "all-linear")
  LoraBias bias = LoraBias::None;
  bool use_rslora = false;
  bool use_dora = false;
  std::vector<std::string> modules_to_save;
  LoraInit init_lora_weights = LoraInit::Default;
  std::string base_model_name_or_path;

  // α/r, or α/√r with rsLoRA (Kalajdzievski 2023: keeps the update's scale stable as r grows).
  double scaling() const;
};

std::string_view lora_bias_name(LoraBias bias);

// Throws one line (naming `origin` and the key) on r ≤ 0, a dropout outside [0, 1), a non-finite
// alpha, an empty target list or an unknown bias.
void validate(const LoraConfig& config, const std::string& origin);

// From / to PEFT's adapter_config.json keys. Unknown keys are ignored as PEFT ignores them;
// peft_type must be LORA when present.
LoraConfig lora_config_from_json(const Json& json, const std::string& origin);
Json lora_config_to_json(const LoraConfig& config);

// One adapted linear layer.
struct LoraTarget {
  int64_t layer = 0;
  std::string linear_name;  // "q_proj"
  std::string module_name;  // "model.layers.0.self_attn.q_proj" (PEFT's module path)
  int64_t out_features = 0;
  int64_t in_features = 0;
};

// The targets in module order. Throws listing the linear modules that exist when an entry matches
// nothing, and refuses lm_head (the transformer has no adapter hook on the output layer).
std::vector<LoraTarget> resolve_targets(const LoraConfig& config, const ModelConfig& model);

// HF names of the base model's biases that `bias` trains, in the model's tensor order, as PEFT marks
// them: "all" every parameter named *.bias (linear layers, LayerNorms, an untied lm_head), "lora_only"
// the biases of the targeted linear layers, "none" nothing. Empty for a model without biases (Llama).
std::vector<std::string> trained_bias_names(const LoraConfig& config, const ModelConfig& model);

// HF names of the parameters that `bias` and `modules_to_save` make trainable in the base model
// (PEFT: bias="all" trains every bias, "lora_only" the biases of targeted layers).
std::vector<std::string> trainable_base_parameters(const LoraConfig& config, const ModelConfig& model);

}  // namespace slmtune::peft
