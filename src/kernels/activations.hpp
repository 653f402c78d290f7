#pragma once
// Elementwise activations of the MLP (SwiGLU for Llama/Qwen2/Phi-3, tanh-GELU for phi-2) and the
// row softmax. Backward functions ADD into their gradient buffers; a null buffer is skipped.
#include <cstdint>

#include "kernels/gradient_store.hpp"

namespace slmtune::kernels {

// out[r, c] = silu(gate[r·stride + c]) · up[r·stride + c], out is [rows, cols] contiguous. The stride
// lets Phi-3's fused gate_up projection ([rows, 2·cols], gate first) be used without a copy:
// gate = fused, up = fused + cols, stride = 2·cols. Unfused: stride = cols.
void swiglu_forward(float* out, const float* gate, const float* up, int64_t rows, int64_t cols, int64_t stride);
// dgate/dup use the same layout and stride as gate/up; `store` Overwrite writes them instead of adding.
void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t rows,
                     int64_t cols, int64_t stride, GradientStore store = GradientStore::Add);

// GELU, tanh approximation (HF's "gelu_new", phi-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// out may alias x.
void gelu_forward(float* out, const float* x, int64_t count);
void gelu_backward(float* dx, const float* dout, const float* x, int64_t count,
                   GradientStore store = GradientStore::Add);

// scale × softmax over each row of [rows, cols]; out may alias x. lse (null to skip) receives each
// row's log Σ exp(x), so a cross-entropy can be lse − x[target] without log(p) underflowing; `scale`
// lets it turn the probabilities straight into its logits' gradient weights. Results below FLT_MIN in
// magnitude are written as 0 (no subnormal floats reach a later matrix product). Backward takes the
// forward's output y (at scale 1).
void softmax_forward(float* out, const float* x, int64_t rows, int64_t cols, float* lse = nullptr,
                     float scale = 1.0f);
void softmax_backward(float* dx, const float* dout, const float* y, int64_t rows, int64_t cols);

}  // namespace slmtune::kernels
