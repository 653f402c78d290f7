#pragma once
// Adapters in Hugging Face PEFT's on-disk format, so PEFT loads ours unchanged and we load theirs:
//   adapter_config.json        LoraConfig's keys plus peft_type "LORA" and task_type "CAUSAL_LM"
//   adapter_model.safetensors  base_model.model.<module>.lora_A.weight [r, in]
//                              base_model.model.<module>.lora_B.weight [out, r]
//                              base_model.model.<module>.lora_magnitude_vector [out]   (DoRA)
//                              base_model.model.<module>[.base_layer].bias             (bias all/lora_only,
//                                                                    see adapter_biases.hpp)
// and the merged model as a plain Hugging Face directory (config.json + model.safetensors).
#include <filesystem>
#include <memory>
#include <string>

#include "peft/lora_model.hpp"

namespace slmtune::peft {

// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
std::string peft_tensor_name(const LoraTarget& target, const std::string& parameter);

// Writes both files atomically into `dir` (created if needed). Tensors are f32; with bias all or
// lora_only the biases are the current values of model.base().
void save_adapter(LoraModel& model, const std::filesystem::path& dir);
// Reads an adapter directory onto the base model `weights`: the config's targets are resolved on
// that model, and every tensor must be present with its shape (f32, f16 or bf16). Fails with one
// line naming the file and the tensor otherwise. Trained biases are not read here: they belong to the
// base, which apply_adapter_biases (adapter_biases.hpp) gives before this is called.
std::unique_ptr<LoraModel> load_adapter(const std::filesystem::path& dir, std::shared_ptr<const ModelWeights> weights);
// The base model with every adapter merged in, as a Hugging Face directory. Merged matrices are
// stored in the base weight's dtype.
void save_merged_model(const LoraModel& model, const std::filesystem::path& dir);

}  // namespace slmtune::peft
