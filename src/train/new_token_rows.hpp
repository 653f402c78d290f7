#pragma once
// Training the rows of tokens added at run time (functional tokens, a new <|pad|>) under an adapter
// method (LoRA/DoRA/QLoRA), which otherwise freezes the embedding and lm_head.
//
// Why this shape: the Transformer already computes the full embedding/lm_head gradient when those
// tensors are trainable; the optimizer is handed only the new rows' slice of values and gradient.
// So the old rows are never written (bit-identical by construction, not by zeroing a gradient that
// an optimizer with weight decay or momentum could still move), the optimizer state covers only
// n × hidden floats, and gradient clipping sees only what is trained. The cost is the transient
// full-size f32 gradient buffer of the embedding (and an untied lm_head) during training.
//
// Checkpoints keep the rows bit-exact (new_token_rows.safetensors). The result follows PEFT's
// trainable tokens (≥ 0.15): adapter_config.json gains "trainable_token_indices" and
// adapter_model.safetensors the rows' change from their initial (mean) values as
// base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta [n, hidden] (and
// base_model.model.lm_head.token_adapter.trainable_tokens_delta for an untied lm_head).
#include <cstdint>
#include <memory>

#include "train/trainable_set.hpp"

namespace slmtune::train {

// Rows [first_row, vocab_size) of the embedding (and untied lm_head, with its bias) are trained
// besides what `inner` trains. `weights` must already be grown (model/vocab_growth).
std::unique_ptr<TrainableSet> train_new_token_rows(std::unique_ptr<TrainableSet> inner, std::shared_ptr<ModelWeights> weights,
                                                   int64_t first_row);

// The PEFT names of the deltas.
inline constexpr const char* kEmbedTokensDelta = "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta";
inline constexpr const char* kLmHeadDelta = "base_model.model.lm_head.token_adapter.trainable_tokens_delta";

}  // namespace slmtune::train
