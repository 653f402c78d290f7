#pragma once
// A training run's adapter directory applied to its base model, in the order training made the
// changes: the token rows it added or trained (trainable_tokens.hpp: the vocabulary may grow), the
// biases it trained (adapter_biases.hpp: an untied lm_head.bias shares the growth, so after the
// tokens), then the LoRA/DoRA adapters on the resulting base (adapter_io.hpp). eval, assist, chat,
// generate and merge all load a run this one way.
#include <filesystem>
#include <memory>

#include "model/weights.hpp"
#include "peft/lora_model.hpp"

namespace slmtune::peft {

struct RunAdapter {
  std::shared_ptr<const ModelWeights> weights;  // the base the adapters refer to (the given one if unchanged)
  std::unique_ptr<LoraModel> adapters;
  bool tokens_applied = false;  // the run's trainable tokens changed (and maybe grew) the embedding
  bool biases_applied = false;  // the run's trained biases replaced the base's
};

// Fails with one line naming the file and the tensor or key when a part does not load.
RunAdapter load_run_adapter(const std::filesystem::path& dir, std::shared_ptr<const ModelWeights> base);

}  // namespace slmtune::peft
