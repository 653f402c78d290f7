#include "peft/adapter_io.hpp"

#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "model/config.hpp"
#include "peft/adapter_biases.hpp"

namespace slmtune::peft {

std::string peft_tensor_name(const LoraTarget& target, const std::string& parameter) {
  return "base_model.model." + target.module_name + "." + parameter;
}

void save_adapter(LoraModel& model, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  safetensors::Writer writer;
  writer.set_metadata("format", "pt");
  for (size_t i = 0; i < model.size(); ++i)
    for (const auto& p : model.adapter(i).parameters()) {
      const auto* bytes = reinterpret_cast<const std::byte*>(p.value.data());
      writer.add(peft_tensor_name(model.targets()[i], p.name),
                 Tensor::from_bytes(DType::F32, p.shape, {bytes, p.value.size() * sizeof(float)}));
    }
  // bias all/lora_only: the trained biases are the base's current values (training updates them in place).
  add_biases(writer, model.base(), adapter_biases(model.config(), model.base().config()));
  writer.write(dir / "adapter_model.safetensors");
  write_file_atomically(dir / "adapter_config.json", lora_config_to_json(model.config()).dump(2) + "\n");
}

std::unique_ptr<LoraModel> load_adapter(const std::filesystem::path& dir, std::shared_ptr<const ModelWeights> weights) {
  const auto config_path = dir / "adapter_config.json";
  if (!std::filesystem::exists(config_path)) fail("{}: no adapter_config.json in the adapter directory", dir.string());
  const LoraConfig config = lora_config_from_json(read_json_file(config_path), config_path.string());
  const auto tensors_path = dir / "adapter_model.safetensors";
  if (!std::filesystem::exists(tensors_path)) fail("{}: no adapter_model.safetensors in the adapter directory", dir.string());
  const auto file = safetensors::File::open(tensors_path);

  auto model = std::make_unique<LoraModel>(config, std::move(weights), 0);
  std::set<std::string> used;
  for (size_t i = 0; i < model->size(); ++i)
    for (const auto& p : model->adapter(i).parameters()) {
      const std::string name = peft_tensor_name(model->targets()[i], p.name);
      const auto* entry = file.find(name);
      if (!entry) fail("{}: tensor '{}' is missing (adapter_config.json targets it)", tensors_path.string(), name);
      if (entry->shape != p.shape)
        fail("{}: tensor '{}' has shape {}, expected {} for r={} on this model", tensors_path.string(), name,
             shape_string(entry->shape), shape_string(p.shape), config.r);
      if (entry->dtype != DType::F32 && entry->dtype != DType::F16 && entry->dtype != DType::BF16)
        fail("{}: tensor '{}' is {}, expected F32, F16 or BF16", tensors_path.string(), name, dtype_name(entry->dtype));
      const std::vector<float> values = file.tensor(name).to_f32_vector();
      std::copy(values.begin(), values.end(), p.value.begin());
      used.insert(name);
    }
  // Trained biases and trainable-token deltas sit in the same file but go into the base weights
  // (apply_adapter_biases, apply_trainable_tokens) before the adapters are attached.
  for (const auto& b : adapter_biases(config, model->base().config())) used.insert({b.peft_name, b.plain_name});
  for (const auto& t : file.tensors())
    if (!used.count(t.name) && t.name.find(".token_adapter.") == std::string::npos) log::warn("{}: ignoring tensor '{}' (not an adapter of the configured targets)", tensors_path.string(), t.name);
  return model;
}

void save_merged_model(const LoraModel& model, const std::filesystem::path& dir) {
  // Each tensor goes back in the dtype the base file stored it in (an NF4 base: its original dtype).
  save_hf_model(*model.merged_weights(), dir);
}

}  // namespace slmtune::peft
