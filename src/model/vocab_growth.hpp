#pragma once
// Growing a model's vocabulary for new tokens (functional tokens, an added <|pad|>): the token
// embedding and, when untied, lm_head (and its bias) gain `rows` rows at the end, so new ids follow
// the old vocabulary, and config.vocab_size grows with them. The old rows are kept bit-identical.
//
// Initialisation follows Hugging Face transformers' resize_token_embeddings default since 4.46
// (mean_resizing=True): new rows centred on the mean of the old rows. transformers samples them
// from N(mean, 1e-9·Σ_old), i.e. the mean up to ~1e-5 noise; we take the mean itself (as torchtune's
// resize_token_embeddings documents), which keeps growth deterministic. A new lm_head row equal to
// the mean row gives the new token the average logit, so it neither dominates nor vanishes at first;
// a new bias entry is the mean of the old biases.
#include <cstdint>

#include "model/weights.hpp"

namespace slmtune {

// Returns a new ModelWeights (call before building a Transformer or trainable set on it). The grown
// tensors are owned and keep the source dtype (f32 means computed in f64, rounded once to it).
ModelWeights grow_vocabulary(const ModelWeights& weights, int64_t rows);

// Bytes the new rows take in memory (embedding, plus lm_head when untied) at the stored dtype.
uint64_t vocabulary_growth_bytes(const ModelWeights& weights, int64_t rows);

}  // namespace slmtune
