#pragma once
// A LoRA adapter's rank-r products over a block of rows, in AVX-512, for LoraAdapter's fast path.
//
// The adapter's products are thin (one side is r, 8–64): handed to sgemm, each call packs its whole
// [rows, in] operand for a 16-wide result, and the dropout mask needs [rows, in] buffers of its own
// (the dropped input, the gradient at it) that leave the cache. On one SmolLM2-135M block
// (`kernels_bench lora`, eight alternated runs) the seven adapters added a median 13.3 ms to ~55–65 ms
// of base products that way, and 11.0 ms this way. Here the
// small factor (Aᵀ, B, Bᵀ or A: r·width floats) stays in L1/L2 while a block of rows streams past
// once, and the dropout mask is applied where the gradient is written, so no [rows, in] buffer exists.
//
// Row-major throughout; r is any positive rank (lanes past r are masked); the caller checks
// kernels::use_avx512() first. The portable path is LoraAdapter's sgemm one, and the tests compare
// the two.
#include <cstdint>

#include "peft/dropout_mask.hpp"

namespace slmtune::peft::avx512 {

// h[rows, r] = x[rows, k] · m[k, r]
void project(float* h, const float* x, int64_t rows, int64_t k, const float* m, int64_t r);

// y[i, :k] += scale · (h[rows, r] · n[r, k])[i, :], rows of y `y_stride` floats apart.
void expand_add(float* y, int64_t y_stride, const float* h, int64_t rows, int64_t r, const float* n, int64_t k,
                float scale);

// The same into dx[rows, k] (contiguous rows), but only where `mask` keeps the element: element
// (i, t) is mask element first_element + i·k + t; dropped ones are left exactly as they are.
void expand_add_kept(float* dx, const float* h, int64_t rows, int64_t r, const float* n, int64_t k, float scale,
                     const DropoutMask& mask, uint64_t first_element);

// g[r, k] += h[rows, r]ᵀ · x[rows, k]
void accumulate_outer(float* g, const float* h, int64_t rows, int64_t r, const float* x, int64_t k);

// out[i] = kept ? x[i]·scale : 0 for i in [0, count), element i being mask element first_element + i
// (the same arithmetic as the portable loop: bit-identical).
void drop(float* out, const float* x, int64_t count, const DropoutMask& mask, float scale, uint64_t first_element);

}  // namespace slmtune::peft::avx512
