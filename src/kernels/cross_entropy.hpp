#pragma once
// The language-model loss straight from the last hidden states: logits = hidden·Wᵀ (+ bias) are
// formed for a block of rows at a time and consumed at once, so [rows, vocab] logits never exist
// together (Qwen2's vocabulary is 151936: 1024 tokens of full logits would be 620 MB).
#include <cstdint>

#include "kernels/matmul.hpp"

namespace slmtune::kernels {

struct CrossEntropyOptions {
  int32_t ignore_index = -100;   // targets equal to it are not counted (prompt tokens, padding)
  float grad_scale = 1.0f;       // gradients are of grad_scale × mean loss (gradient accumulation)
  // Floats of logits held at once (64 MiB): rows per block ≤ max_logits / vocab. Every block reads the
  // whole [vocab, dim] matrix twice, so blocks of a few rows are slow (SmolLM2's head: 832 ms for
  // 1024 rows at 170 rows per block, 704 ms at 341; Qwen2's: 3.46 s at 55 rows, 2.83 s at 110).
  int64_t max_logits = 16 << 20;
};

struct CrossEntropyResult {
  double loss = 0.0;  // mean of −log softmax(logits)[target] over counted rows; 0 when none counts
  int64_t count = 0;  // rows whose target is not ignore_index
};

// hidden: [rows, dim]; output: [vocab, dim] (the lm_head or the tied embedding); bias: [vocab] or
// null (phi-2's lm_head has one); targets: [rows]. Gradients of grad_scale × mean loss are ADDED to
// dhidden [rows, dim], doutput [vocab, dim] and dbias [vocab]; null ones are skipped, and with all
// three null only the loss is computed. Ignored rows cost nothing. A target outside [0, vocab) that
// is not ignore_index throws slmtune::Error naming the row.
CrossEntropyResult cross_entropy(const float* hidden, const WeightMatrix& output, const float* bias,
                                 const int32_t* targets, int64_t rows, float* dhidden, float* doutput, float* dbias,
                                 const CrossEntropyOptions& options = {});

}  // namespace slmtune::kernels
