#include "peft/adapter_biases.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "formats/json.hpp"

namespace slmtune::peft {
namespace {

constexpr const char* kPrefix = "base_model.model.";

const WeightEntry& entry_of(const ModelWeights& weights, const std::string& hf_name) {
  const int index = weights.index(hf_name);
  if (index < 0) fail("{}: the model has no tensor '{}'", weights.origin(), hf_name);
  return weights[static_cast<size_t>(index)];
}

}  // namespace

std::vector<AdapterBias> adapter_biases(const LoraConfig& config, const ModelConfig& model) {
  std::vector<AdapterBias> out;
  const std::vector<std::string> names = trained_bias_names(config, model);
  if (names.empty()) return out;
  std::set<std::string> targeted;
  for (const auto& t : resolve_targets(config, model)) targeted.insert(t.module_name);
  for (const auto& name : names) {
    const std::string module = name.substr(0, name.size() - std::string_view(".bias").size());
    AdapterBias b;
    b.hf_name = name;
    b.plain_name = kPrefix + name;
    b.peft_name = targeted.count(module) ? kPrefix + module + ".base_layer.bias" : b.plain_name;
    out.push_back(std::move(b));
  }
  return out;
}

void add_biases(safetensors::Writer& writer, const ModelWeights& weights, const std::vector<AdapterBias>& biases) {
  for (const auto& b : biases) {
    const WeightEntry& entry = entry_of(weights, b.hf_name);
    const float* values = entry.vector();
    if (!values) fail("{}: '{}' is not a vector the kernels read as f32", weights.origin(), b.hf_name);
    const auto count = static_cast<size_t>(shape_numel(entry.spec.shape));
    writer.add(b.peft_name, Tensor::from_bytes(DType::F32, entry.spec.shape,
                                               std::as_bytes(std::span<const float>(values, count))));
  }
}

size_t read_biases(const safetensors::File& file, ModelWeights& weights, const std::vector<AdapterBias>& biases,
                   bool require_all) {
  size_t read = 0;
  for (const auto& b : biases) {
    const safetensors::TensorEntry* found = file.find(b.peft_name);
    std::string name = b.peft_name;
    if (!found && b.plain_name != b.peft_name) {
      found = file.find(b.plain_name);
      name = b.plain_name;
    }
    if (!found) {
      if (require_all) fail("{}: tensor '{}' is missing (bias trains it)", file.path().string(), b.peft_name);
      continue;
    }
    const int index = weights.index(b.hf_name);
    if (index < 0) fail("{}: tensor '{}' has no '{}' in the model to go to", file.path().string(), name, b.hf_name);
    const Shape& shape = weights[static_cast<size_t>(index)].spec.shape;
    if (found->shape != shape)
      fail("{}: tensor '{}' has shape {}, expected {}", file.path().string(), name, shape_string(found->shape), shape_string(shape));
    if (found->dtype != DType::F32 && found->dtype != DType::F16 && found->dtype != DType::BF16)
      fail("{}: tensor '{}' is {}, expected F32, F16 or BF16", file.path().string(), name, dtype_name(found->dtype));
    const std::vector<float> values = file.tensor(name).to_f32_vector();
    const std::span<float> target = weights.trainable_values(static_cast<size_t>(index));
    std::copy(values.begin(), values.end(), target.begin());
    ++read;
  }
  return read;
}

size_t load_adapter_biases(const std::filesystem::path& adapter_dir, ModelWeights& weights) {
  const auto config_path = adapter_dir / "adapter_config.json";
  if (!std::filesystem::is_regular_file(config_path)) fail("{}: no adapter_config.json in the adapter directory", adapter_dir.string());
  const LoraConfig config = lora_config_from_json(read_json_file(config_path), config_path.string());
  const std::vector<AdapterBias> biases = adapter_biases(config, weights.config());
  if (biases.empty()) return 0;
  const auto file = safetensors::File::open(adapter_dir / "adapter_model.safetensors");
  const size_t read = read_biases(file, weights, biases, /*require_all=*/false);
  if (read == 0)
    log::warn("{}: bias is {} but the file holds no biases (PEFT before 0.20 did not save lora_only biases); the base "
              "model's biases are used", file.path().string(), lora_bias_name(config.bias));
  else if (read < biases.size())
    fail("{}: holds {} of the {} biases that bias={} trains (e.g. '{}' is missing)", file.path().string(), read,
         biases.size(), lora_bias_name(config.bias), [&] {
           for (const auto& b : biases)
             if (!file.find(b.peft_name) && !file.find(b.plain_name)) return b.peft_name;
           return std::string();
         }());
  return read;
}

std::shared_ptr<ModelWeights> apply_adapter_biases(const std::filesystem::path& adapter_dir, const ModelWeights& base) {
  // Copies share the base's read-only views; only the biases become owned values.
  auto weights = std::make_shared<ModelWeights>(base);
  if (load_adapter_biases(adapter_dir, *weights) == 0) return nullptr;
  return weights;
}

}  // namespace slmtune::peft
