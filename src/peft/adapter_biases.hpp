#pragma once
// The base model's biases that LoraConfig::bias trains ("all": every bias; "lora_only": those of the
// targeted linear layers), kept beside the adapters in adapter_model.safetensors as PEFT keeps them.
//
// PEFT's names are those of its model's state_dict with the adapter name removed: a targeted layer is
// wrapped by PEFT's LoRA layer, so its bias sits at
//   base_model.model.<module>.base_layer.bias   (e.g. …layers.0.self_attn.q_proj.base_layer.bias)
// and any other bias keeps its own name,
//   base_model.model.<module>.bias              (e.g. …layers.0.input_layernorm.bias, lm_head.bias).
// PEFT before the fix of huggingface/peft#3306 dropped lora_only biases when saving, and adapters
// written by hand often use the plain name for targeted layers too; both names are accepted on load.
//
// The values live in the base ModelWeights themselves (an owned f32 copy per trained bias, see
// ModelWeights::trainable_values), so the Transformer, a merge and a save all read the trained values
// without a hook of their own.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "formats/safetensors.hpp"
#include "model/weights.hpp"
#include "peft/lora_config.hpp"

namespace slmtune::peft {

struct AdapterBias {
  std::string hf_name;     // "model.layers.0.self_attn.q_proj.bias"
  std::string peft_name;   // "base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias"
  std::string plain_name;  // "base_model.model.model.layers.0.self_attn.q_proj.bias" (also accepted)
};

// The biases `config` trains on `model`, in the model's tensor order (empty for bias none or a model
// without biases).
std::vector<AdapterBias> adapter_biases(const LoraConfig& config, const ModelConfig& model);

// Adds the current values of `biases` in `weights` to `writer`, as f32.
void add_biases(safetensors::Writer& writer, const ModelWeights& weights, const std::vector<AdapterBias>& biases);

// Copies `biases` from `file` into `weights` (each becomes owned f32, so the copy is bit-exact for an
// f32 file). A bias present with another shape, or in a dtype other than f32/f16/bf16, is a one-line
// error naming the file and tensor; so is a missing one when `require_all`, else missing ones keep the
// base values. Returns how many were read.
size_t read_biases(const safetensors::File& file, ModelWeights& weights, const std::vector<AdapterBias>& biases,
                   bool require_all);

// The trained biases of the adapter in `adapter_dir` written into `weights` (in place). Returns how
// many were read; 0 when its config trains none. An adapter whose config trains biases but whose file
// holds none (PEFT's lora_only before the fix) keeps the base biases, with a warning.
size_t load_adapter_biases(const std::filesystem::path& adapter_dir, ModelWeights& weights);

// A copy of `base` with the adapter's trained biases, or nullptr when it has none (the base stays as is).
std::shared_ptr<ModelWeights> apply_adapter_biases(const std::filesystem::path& adapter_dir, const ModelWeights& base);

}  // namespace slmtune::peft
