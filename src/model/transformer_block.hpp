#pragma once
// One decoder block's forward and backward (internal to transformer.cpp). The block reads its
// parameters from ModelWeights by index and writes what its backward needs into BlockActivations.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/uninitialized_floats.hpp"
#include "kernels/attention.hpp"
#include "kernels/rope.hpp"
#include "model/transformer.hpp"

namespace slmtune::detail {

// A linear layer of a block: weight and bias indices into ModelWeights (-1 when absent).
struct LinearRef {
  int weight = -1;
  int bias = -1;
  std::string name;  // short name, e.g. "q_proj"
  std::shared_ptr<LinearAdapter> adapter;
};

struct BlockParams {
  int norm1_weight = -1, norm1_bias = -1, norm2_weight = -1, norm2_bias = -1;
  LinearRef q, k, v, qkv, o, gate, up, gate_up, down;  // phi-2: up = fc1, down = fc2
  std::string prefix;                                  // "model.layers.L."
};

// Everything a block's backward reads, sized by ensure().
struct BlockActivations {
  UninitializedFloats x_in;              // [N, H] block input
  UninitializedFloats norm1, mean1, rstd1;
  UninitializedFloats q, k, v;           // after RoPE (q, k)
  UninitializedFloats attn, lse;         // attention output [N, q_size], lse [B, heads, T]
  UninitializedFloats x_mid;             // sequential blocks: x + attention branch
  UninitializedFloats norm2, mean2, rstd2;
  UninitializedFloats mlp_pre;           // gate|up (SwiGLU) or fc1 output (GELU)
  UninitializedFloats mlp_act;           // input of down_proj / fc2
  int64_t bytes() const;
};

// Gradient buffers by parameter index (null when frozen).
using GradientLookup = std::function<float*(int)>;

struct BlockContext {
  const ModelWeights* weights = nullptr;
  const ModelConfig* config = nullptr;
  kernels::AttentionShape shape;  // batch, T, heads
  const uint8_t* key_mask = nullptr;
  const int32_t* segments = nullptr;  // packed rows: [batch, T] segment ids, null = one per row
  const int32_t* positions = nullptr;
  const kernels::RopeTable* rope = nullptr;
  // Decoding with a KV cache (batch 1): the new keys/values are written at rows [kv_len - q_len,
  // kv_len) of these [kv_capacity, kv_heads, head_dim] buffers and attention reads all kv_len rows.
  float* cache_keys = nullptr;
  float* cache_values = nullptr;
  int64_t tokens() const { return shape.batch * shape.q_len; }
};

BlockParams block_params(const ModelWeights& weights, int64_t layer);

// x_out = block(x_in); x_in must already be in acts.x_in.
void block_forward(const BlockContext& ctx, const BlockParams& params, BlockActivations& acts, float* x_out);

// Frees the activations that backward can rebuild cheaply from what stays: the normed inputs norm1 and
// norm2 (from x_in / x_mid and the kept mean/rstd, one pass over H per token) and mlp_act (SwiGLU or
// GELU of mlp_pre, elementwise). They are a third of a block's activations, and rebuilding them is a
// few elementwise passes against the matmuls of a backward, so a training forward that keeps every
// layer (Activations::Keep) releases them. block_backward rebuilds whichever are missing, bit-identical
// to the forward's values (same kernels, same inputs).
void release_rebuildable(BlockActivations& acts);

// Given dx_out, writes dx_in (may alias dx_out) and adds parameter gradients.
void block_backward(const BlockContext& ctx, const BlockParams& params, const BlockActivations& acts,
                    const float* dx_out, float* dx_in, const GradientLookup& grad,
                    const GradientObserver& observer);

}  // namespace slmtune::detail
