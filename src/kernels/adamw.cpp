#include "kernels/adamw.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "kernels/adamw_reference.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

SLMTUNE_TARGET_AVX2 void adamw_avx2(float* param, const float* grad, float* m, float* v, int64_t count, float lr,
                                    float beta1, float beta2, float eps, float weight_decay, int64_t step) {
  const float bias_correction1 = 1.0f - std::pow(beta1, static_cast<float>(step));
  const float bias_correction2_sqrt = std::sqrt(1.0f - std::pow(beta2, static_cast<float>(step)));
  const __m256 decay = _mm256_set1_ps(1.0f - lr * weight_decay);
  const __m256 one_minus_beta1 = _mm256_set1_ps(1.0f - beta1), vbeta2 = _mm256_set1_ps(beta2);
  const __m256 one_minus_beta2 = _mm256_set1_ps(1.0f - beta2), veps = _mm256_set1_ps(eps);
  const __m256 step_size = _mm256_set1_ps(lr / bias_correction1);
  const __m256 inverse_correction2 = _mm256_set1_ps(1.0f / bias_correction2_sqrt);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 g = _mm256_loadu_ps(grad + i);
    __m256 mi = _mm256_loadu_ps(m + i);
    mi = _mm256_fmadd_ps(_mm256_sub_ps(g, mi), one_minus_beta1, mi);
    const __m256 vi = _mm256_fmadd_ps(_mm256_loadu_ps(v + i), vbeta2, _mm256_mul_ps(one_minus_beta2, _mm256_mul_ps(g, g)));
    const __m256 denom = _mm256_fmadd_ps(_mm256_sqrt_ps(vi), inverse_correction2, veps);
    const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(param + i), decay);
    _mm256_storeu_ps(param + i, _mm256_sub_ps(p, _mm256_div_ps(_mm256_mul_ps(step_size, mi), denom)));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
  }
  reference::adamw_update(param + i, grad + i, m + i, v + i, count - i, lr, beta1, beta2, eps, weight_decay, step);
}

}  // namespace

void adamw_update(float* param, const float* grad, float* m, float* v, int64_t count, const AdamWSettings& s,
                  int64_t step) {
  if (step < 1) fail("adamw_update: step {} must count from 1", step);
  const bool avx2 = use_avx2();
  parallel_for(count, 1 << 15, [&](int64_t first, int64_t last) {
    if (avx2)
      adamw_avx2(param + first, grad + first, m + first, v + first, last - first, s.lr, s.beta1, s.beta2, s.eps,
                 s.weight_decay, step);
    else
      reference::adamw_update(param + first, grad + first, m + first, v + first, last - first, s.lr, s.beta1,
                              s.beta2, s.eps, s.weight_decay, step);
  });
}

}  // namespace slmtune::kernels
