#include "peft/lora_model.hpp"

#include "core/error.hpp"
#include "peft/dora.hpp"

namespace slmtune::peft {

LoraModel::LoraModel(const LoraConfig& config, std::shared_ptr<const ModelWeights> weights, uint64_t seed)
    : config_(config), weights_(std::move(weights)), targets_(resolve_targets(config, weights_->config())) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    const LoraTarget& t = targets_[i];
    const uint64_t adapter_seed = seed * 0x9e3779b97f4a7c15ULL + i + 1;
    if (config_.use_dora)
      adapters_.push_back(std::make_shared<DoraAdapter>(base_weight(weights_, t.module_name + ".weight"), config_, adapter_seed));
    else
      adapters_.push_back(std::make_shared<LoraAdapter>(t.in_features, t.out_features, config_, adapter_seed));
  }
}

void LoraModel::attach(Transformer& model) const {
  for (size_t i = 0; i < targets_.size(); ++i) model.set_adapter(targets_[i].layer, targets_[i].linear_name, adapters_[i]);
}

void LoraModel::detach(Transformer& model) const {
  for (const auto& t : targets_) model.set_adapter(t.layer, t.linear_name, nullptr);
}

void LoraModel::set_training(bool training) {
  for (auto& a : adapters_) a->set_training(training);
}

void LoraModel::set_step(uint64_t step) {
  for (auto& a : adapters_) a->set_step(step);
}

void LoraModel::zero_gradients() {
  for (auto& a : adapters_) a->zero_gradients();
}

int64_t LoraModel::parameter_count() {
  int64_t total = 0;
  for (auto& a : adapters_)
    for (const auto& p : a->parameters()) total += static_cast<int64_t>(p.value.size());
  return total;
}

std::shared_ptr<ModelWeights> LoraModel::merged_weights() const {
  auto merged = std::make_shared<ModelWeights>(*weights_);
  for (size_t i = 0; i < targets_.size(); ++i) {
    const std::string name = targets_[i].module_name + ".weight";
    const int index = merged->index(name);
    if (index < 0) fail("{}: no tensor '{}' to merge the adapter into", weights_->origin(), name);
    const WeightEntry& base = (*merged)[static_cast<size_t>(index)];
    Tensor w;
    if (base.nf4) {  // a QLoRA base merges into its de-quantized values
      w = Tensor::zeros(DType::F32, base.spec.shape);
      base.nf4->dequantize(0, base.nf4->numel(), w.as_mutable<float>());
    } else {
      w = base.tensor.to_f32();
    }
    adapters_[i]->merge_into({w.as_mutable<float>(), static_cast<size_t>(w.numel())});
    merged->replace(static_cast<size_t>(index), std::move(w));
  }
  return merged;
}

}  // namespace slmtune::peft
