#pragma once
// AdamW (decoupled weight decay, bias-corrected moments) as torch.optim.AdamW applies it, one
// parameter tensor at a time.
#include <cstdint>

namespace slmtune::kernels {

struct AdamWSettings {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;
};

// step counts from 1 (the update being applied). In order: p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g;
// v ← β2·v + (1−β2)·g²; p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps).
void adamw_update(float* param, const float* grad, float* m, float* v, int64_t count, const AdamWSettings& settings,
                  int64_t step);

}  // namespace slmtune::kernels
