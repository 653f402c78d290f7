#pragma once
// What a training method makes trainable, behind one interface the trainer loop drives: the LoRA/DoRA
// adapters (optionally over an NF4 base, QLoRA) with the base biases lora.bias names, or every
// parameter of the model (full fine-tuning).
// Each knows its optimizer parameters and gradients, how to write and read its weights in a checkpoint,
// the run's result files, and the settings a resumed run must share (identity).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "model/transformer.hpp"
#include "model/weights.hpp"
#include "train/optimizer.hpp"
#include "peft/lora_config.hpp"
#include "train/train_config.hpp"

namespace slmtune::train {

class TrainableSet {
 public:
  virtual ~TrainableSet() = default;
  virtual void attach(Transformer& model) = 0;
  virtual std::vector<NamedParameter> parameters(Transformer& model) = 0;
  virtual std::vector<std::span<float>> gradients(Transformer& model) = 0;
  virtual void zero_gradients(Transformer& model) = 0;
  virtual void set_training(bool training) {}
  virtual void set_step(uint64_t micro_step) {}
  // Checkpoint weights: written into / read from a checkpoint folder (bit-exact f32).
  virtual void save(const std::filesystem::path& dir, Transformer& model) = 0;
  virtual void load(const std::filesystem::path& dir, Transformer& model) = 0;
  // The run's result in output_dir: a PEFT adapter or a Hugging Face model folder.
  virtual void save_result(const std::filesystem::path& dir, Transformer& model) = 0;
  // Method settings a resumed run must match ("method", "r", "target_modules", …).
  virtual Json identity() const = 0;
  // A digest of the base model's tensor names, shapes and leading bytes, taken before training.
  const std::string& base_fingerprint() const { return fingerprint_; }
  virtual int64_t parameter_count() = 0;
  // Whether the whole base tensor `hf_name` is already one of this set's parameters (a bias under
  // lora.bias), so a wrapper that trains part of it (new token rows) leaves it alone.
  virtual bool trains_base_tensor(const std::string& hf_name) const { return false; }

 protected:
  std::string fingerprint_;
};

// "lora", "dora", "qlora" or "full" per config.method. `initial_adapter`: a PEFT adapter folder whose
// config and weights replace the lora section (LoRA methods only).
std::unique_ptr<TrainableSet> make_trainable_set(const TrainConfig& config, std::shared_ptr<ModelWeights> weights,
                                                 const std::filesystem::path& initial_adapter);

// The LoRA settings of a training config in PEFT's form: a single "all-linear" or a single entry with
// regular-expression characters is PEFT's string form (target_regex); anything else is a name list.
peft::LoraConfig lora_config_from(const TrainConfig& config);

std::string model_fingerprint(const ModelWeights& weights);

}  // namespace slmtune::train
