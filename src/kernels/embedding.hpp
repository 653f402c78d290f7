#pragma once
// Token embedding lookup and its gradient. The table may be a frozen bf16/f16 matrix (expanded one
// row at a time) or the trainable f32 one.
#include <cstdint>

#include "kernels/matmul.hpp"

namespace slmtune::kernels {

// out[i, :] = table[ids[i], :] for i < n; table is [vocab, dim]. An id outside [0, vocab) throws
// slmtune::Error naming its position, before anything is written.
void embedding_forward(float* out, const WeightMatrix& table, const int32_t* ids, int64_t n);

// dtable[ids[i], :] += dout[i, :]. Threads split the embedding dimension, so a token that occurs
// many times is summed in order by one thread and no two threads touch the same element.
void embedding_backward(float* dtable, const float* dout, const int32_t* ids, int64_t n, int64_t vocab, int64_t dim);

}  // namespace slmtune::kernels
