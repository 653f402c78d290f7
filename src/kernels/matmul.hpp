#pragma once
// Linear layers as PyTorch's nn.Linear computes them: y = x·Wᵀ (+ b), W stored [out, in] row-major.
// f32 weights go straight to BLAS; bf16/f16 weights (frozen base weights kept in their stored dtype)
// are expanded a tile at a time into a small f32 buffer, so no f32 copy of the matrix ever exists.
// One input row (decoding) takes its own loops: f32 rows streamed four at a time with a software
// prefetch, and on AVX-512 bf16/f16 rows widened in registers with no tile at all.
#include <cstdint>

#include "core/dtype.hpp"
#include "kernels/gradient_store.hpp"

namespace slmtune::kernels {

// A read-only weight matrix [rows = out features, cols = in features], row-major, in F32, BF16 or F16.
struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
};

// y[n, out] = x[n, in] · Wᵀ + bias (bias may be null).
void linear_forward(float* y, const float* x, const WeightMatrix& weight, const float* bias, int64_t n);

// Gradients, each ADDED to its buffer (so a caller can sum several paths into one); a null buffer is
// a gradient nobody wants and costs nothing:
//   dx[n, in] += dy·W,   dweight[out, in] += dyᵀ·x,   dbias[out] += Σ_rows dy.
// With dx_store Overwrite, dx = dy·W instead (dx's old contents are not read).
// dweight and dbias are f32 whatever the weight's stored dtype.
void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const WeightMatrix& weight, int64_t n, GradientStore dx_store = GradientStore::Add);

// The least rows per thread when one input row (decoding) runs through f32 weights with `cols`
// columns: runs of at least ~64 KiB of weights, so a small projection is not split into chunks that
// cost more to hand out than to read. bench/transformer_bench.cpp's read roofline splits alike.
int64_t gemv_row_grain(int64_t cols);

// How far ahead of its reads the AVX-512 decoding loop prefetches weights (8 KiB: two pages, measured
// best of 1, 2, 4 and 8 KiB on SmolLM2's matrices). The read roofline prefetches alike.
constexpr int64_t kGemvPrefetchBytes = 8 * 1024;

// Converts `count` values of an F32/BF16/F16 array to f32 (the tile expansion; AVX2 when available).
void expand_to_f32(const void* source, DType dtype, int64_t count, float* destination);

}  // namespace slmtune::kernels
