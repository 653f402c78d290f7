#pragma once
// RMSNorm (Llama, Qwen2, Phi-3) and LayerNorm (phi-2) over the last dimension of [rows, dim] data.
// Forward saves the per-row statistics its backward needs (rstd; mean too for LayerNorm); pass null
// to skip saving them at inference. Backward ADDS into dx, dweight and dbias; null skips one.
#include <cstdint>

namespace slmtune::kernels {

// y = x / sqrt(mean(x²) + eps) · weight, as HF's LlamaRMSNorm computes it in f32.
void rmsnorm_forward(float* y, float* rstd, const float* x, const float* weight, int64_t rows, int64_t dim,
                     float eps);
void rmsnorm_backward(float* dx, float* dweight, const float* dy, const float* x, const float* weight,
                      const float* rstd, int64_t rows, int64_t dim);

// y = (x - mean) / sqrt(var + eps) · weight + bias (biased variance, as torch.nn.LayerNorm); bias may be null.
void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                       int64_t rows, int64_t dim, float eps);
void layernorm_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                        const float* weight, const float* mean, const float* rstd, int64_t rows, int64_t dim);

}  // namespace slmtune::kernels
