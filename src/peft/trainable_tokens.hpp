#pragma once
// Reading back PEFT's trainable tokens (≥ 0.15) beside a LoRA adapter: adapter_config.json's
// "trainable_token_indices" (a list = the input embedding's rows, or {"embed_tokens": [...],
// "lm_head": [...]}) and adapter_model.safetensors'
// base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta [n, hidden] (and
// base_model.model.lm_head.token_adapter.trainable_tokens_delta for an untied lm_head): each delta row
// is added to the base row of its index. Indices past the base vocabulary are tokens the run added:
// the base is grown first exactly as training grew it (model/vocab_growth: mean rows), so the sum
// reproduces the trained rows.
#include <filesystem>
#include <memory>

#include "model/weights.hpp"

namespace slmtune::peft {

// The base with the adapter's trainable tokens applied, or nullptr when the adapter has none.
// One-line errors name the file and the tensor or key.
std::shared_ptr<ModelWeights> apply_trainable_tokens(const std::filesystem::path& adapter_dir, const ModelWeights& base);

}  // namespace slmtune::peft
