#include "peft/trainable_tokens.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "model/vocab_growth.hpp"

namespace slmtune::peft {
namespace {

constexpr const char* kEmbedDelta = "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta";
constexpr const char* kLmHeadDelta = "base_model.model.lm_head.token_adapter.trainable_tokens_delta";

std::vector<int64_t> index_list(const Json& value, const std::filesystem::path& file, const std::string& key) {
  if (!value.is_array()) fail("{}: trainable_token_indices{}: expected a list of token ids", file.string(), key);
  std::vector<int64_t> out;
  for (const auto& v : value) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      fail("{}: trainable_token_indices{}: expected non-negative integer token ids", file.string(), key);
    out.push_back(v.get<int64_t>());
  }
  return out;
}

void add_delta(ModelWeights& weights, const char* tensor_name, const safetensors::File& file, const char* delta_name,
               const std::vector<int64_t>& ids) {
  const auto* entry = file.find(delta_name);
  if (!entry) fail("{}: tensor '{}' is missing (trainable_token_indices names {} tokens)", file.path().string(), delta_name, ids.size());
  const int index = weights.index(tensor_name);
  if (index < 0) fail("{}: the model has no '{}' for '{}'", file.path().string(), tensor_name, delta_name);
  const int64_t width = weights.config().hidden_size;
  if (entry->shape != Shape{static_cast<int64_t>(ids.size()), width})
    fail("{}: tensor '{}' has shape {}, expected [{}, {}]", file.path().string(), delta_name, shape_string(entry->shape),
         ids.size(), width);
  const std::vector<float> delta = file.tensor(delta_name).to_f32_vector();
  const std::span<float> values = weights.trainable_values(static_cast<size_t>(index));
  for (size_t k = 0; k < ids.size(); ++k)
    for (int64_t c = 0; c < width; ++c)
      values[static_cast<size_t>(ids[k] * width + c)] += delta[k * static_cast<size_t>(width) + static_cast<size_t>(c)];
}

}  // namespace

std::shared_ptr<ModelWeights> apply_trainable_tokens(const std::filesystem::path& adapter_dir, const ModelWeights& base) {
  const auto config_path = adapter_dir / "adapter_config.json";
  if (!std::filesystem::is_regular_file(config_path)) return nullptr;
  const Json config = read_json_file(config_path);
  if (!config.contains("trainable_token_indices") || config["trainable_token_indices"].is_null()) return nullptr;
  const Json& spec = config["trainable_token_indices"];
  std::vector<int64_t> embed_ids, head_ids;
  if (spec.is_array()) {
    embed_ids = index_list(spec, config_path, "");
  } else if (spec.is_object()) {
    for (const auto& [key, value] : spec.items()) {
      if (key == "embed_tokens") embed_ids = index_list(value, config_path, ".embed_tokens");
      else if (key == "lm_head") head_ids = index_list(value, config_path, ".lm_head");
      else fail("{}: trainable_token_indices.{}: only embed_tokens and lm_head are supported", config_path.string(), key);
    }
  } else {
    fail("{}: trainable_token_indices: expected a list or an object", config_path.string());
  }
  int64_t needed = base.config().vocab_size;
  for (const auto* ids : {&embed_ids, &head_ids})
    for (int64_t id : *ids) needed = std::max(needed, id + 1);
  auto weights = std::make_shared<ModelWeights>(grow_vocabulary(base, needed - base.config().vocab_size));
  const auto file = safetensors::File::open(adapter_dir / "adapter_model.safetensors");
  if (!embed_ids.empty()) add_delta(*weights, "model.embed_tokens.weight", file, kEmbedDelta, embed_ids);
  if (!head_ids.empty()) {
    if (weights->config().tie_word_embeddings)
      fail("{}: trainable_token_indices.lm_head on a model with tied embeddings (the embedding's rows are the output's)",
           config_path.string());
    add_delta(*weights, "lm_head.weight", file, kLmHeadDelta, head_ids);
  }
  return weights;
}

}  // namespace slmtune::peft
