#pragma once
// A whole model's LoRA/DoRA adapters: one adapter per resolved target, attached to a Transformer
// through its LinearAdapter hook, and merged into a copy of the base weights for export.
#include <cstdint>
#include <memory>
#include <vector>

#include "model/transformer.hpp"
#include "model/weights.hpp"
#include "peft/lora.hpp"
#include "peft/lora_config.hpp"

namespace slmtune::peft {

class LoraModel {
 public:
  // One adapter per target of `config` (DoRA when use_dora, reading base weights from `weights`);
  // adapter i is seeded from (seed, i) so a seed reproduces every initial A.
  LoraModel(const LoraConfig& config, std::shared_ptr<const ModelWeights> weights, uint64_t seed);

  const LoraConfig& config() const { return config_; }
  const std::vector<LoraTarget>& targets() const { return targets_; }
  size_t size() const { return adapters_.size(); }
  LoraAdapter& adapter(size_t i) { return *adapters_.at(i); }
  const LoraAdapter& adapter(size_t i) const { return *adapters_.at(i); }
  const ModelWeights& base() const { return *weights_; }

  void attach(Transformer& model) const;
  void detach(Transformer& model) const;
  void set_training(bool training);
  void set_step(uint64_t step);
  void zero_gradients();
  int64_t parameter_count();

  // A copy of the base weights with every adapter merged in (adapted matrices become f32; the rest
  // stay views of the base file).
  std::shared_ptr<ModelWeights> merged_weights() const;

 private:
  LoraConfig config_;
  std::shared_ptr<const ModelWeights> weights_;
  std::vector<LoraTarget> targets_;
  std::vector<std::shared_ptr<LoraAdapter>> adapters_;
};

}  // namespace slmtune::peft
