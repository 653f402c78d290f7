#pragma once
// AdamW element by element, in the order torch.optim.AdamW (single-tensor path) applies it: the
// portable path and the reference for the AVX2 one.
#include <cmath>
#include <cstdint>

namespace slmtune::kernels::reference {

template <class T>
void adamw_update(T* param, const T* grad, T* m, T* v, int64_t count, T lr, T beta1, T beta2, T eps, T weight_decay,
                  int64_t step) {
  const T bias_correction1 = T(1) - std::pow(beta1, T(step));
  const T bias_correction2_sqrt = std::sqrt(T(1) - std::pow(beta2, T(step)));
  const T step_size = lr / bias_correction1;
  for (int64_t i = 0; i < count; ++i) {
    param[i] *= T(1) - lr * weight_decay;
    m[i] += (grad[i] - m[i]) * (T(1) - beta1);
    v[i] = v[i] * beta2 + (T(1) - beta2) * grad[i] * grad[i];
    param[i] -= step_size * m[i] / (std::sqrt(v[i]) / bias_correction2_sqrt + eps);
  }
}

}  // namespace slmtune::kernels::reference
