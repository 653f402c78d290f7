#pragma once
// A linear layer whose frozen weight [out, in] is stored in NF4 (the QLoRA base): y = x·Wᵀ + b and
// the input gradient dx += dy·W, with W de-quantized a tile of rows at a time into a small f32 buffer
// that BLAS multiplies, so the f32 weight never exists as a whole. The weight gets no gradient: a
// QLoRA base is frozen and only the adapter on top (the transformer's LinearAdapter hook) trains.
#include <cstdint>

#include "quant/nf4.hpp"

namespace slmtune::quant {

// y[n, out] = x[n, in] · Wᵀ + bias (bias may be null). `weight` must be 2-D.
void nf4_linear_forward(float* y, const float* x, const Nf4Tensor& weight, const float* bias, int64_t n);
// dx[n, in] += dy[n, out] · W.
void nf4_linear_backward_input(float* dx, const float* dy, const Nf4Tensor& weight, int64_t n);

}  // namespace slmtune::quant
