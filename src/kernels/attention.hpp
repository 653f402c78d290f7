#pragma once
// Causal multi-head attention with grouped-query heads and a key padding mask, computed tile by tile
// with an online softmax (FlashAttention-2): no [T, T] score matrix is ever stored, only the per-row
// log-sum-exp, and backward recomputes each tile's scores from it.
#include <cstdint>

namespace slmtune::kernels {

struct AttentionShape {
  int64_t batch = 1;
  int64_t q_len = 0;      // queries per sequence
  int64_t kv_len = 0;     // keys per sequence; the queries are the last q_len of them (KV cache)
  int64_t q_heads = 0;
  int64_t kv_heads = 0;   // divides q_heads: q head h reads kv head h / (q_heads / kv_heads)
  int64_t head_dim = 0;
  int64_t kv_capacity = 0;  // time stride of k, v and the mask per sequence; 0 means kv_len
};

// q, out: [batch, q_len, q_heads, head_dim]; k, v: [batch, kv_capacity, kv_heads, head_dim] (the
// layouts a linear projection writes). Query i sits at position kv_len − q_len + i and attends to
// key j when j ≤ that position and key_mask[b·kv_capacity + j] != 0 (a null mask admits all keys).
// scores = scale·q·kᵀ (scale is usually 1/√head_dim). A query with no admitted key gets out = 0.
// lse: [batch, q_heads, q_len], the natural log of each row's softmax denominator, for backward
// (null at inference).
void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                       const uint8_t* key_mask, const AttentionShape& shape, float scale);

// ADDS the gradients into dq, dk, dv (same layouts as q, k, v). Needs the forward's out and lse.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, const uint8_t* key_mask,
                        const AttentionShape& shape, float scale);

// Packed rows (several samples in one row): as above, and query i also needs
// segment_ids[b·kv_capacity + j] == segment_ids[b·kv_capacity + kv_len − q_len + i] to see key j, which
// makes the mask block-diagonal causal. A null segment_ids is one segment per row (the plain forms).
void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                       const uint8_t* key_mask, const int32_t* segment_ids, const AttentionShape& shape, float scale);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, const uint8_t* key_mask,
                        const int32_t* segment_ids, const AttentionShape& shape, float scale);

// Throws slmtune::Error unless the shape is usable (positive sizes, heads divisible, capacity ≥ kv_len ≥ q_len).
void check_attention_shape(const AttentionShape& shape);

}  // namespace slmtune::kernels
