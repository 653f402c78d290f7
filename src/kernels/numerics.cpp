#include "kernels/numerics.hpp"

#include <cmath>

#include "kernels/cpu_features.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

int64_t find_non_finite_scalar(const float* x, int64_t begin, int64_t count) {
  for (int64_t i = begin; i < count; ++i)
    if (!std::isfinite(x[i])) return i;
  return -1;
}

// x·0 is ±0 for finite x and NaN for NaN or ±Inf, so one unordered compare flags both.
SLMTUNE_TARGET_AVX2 int64_t find_non_finite_avx2(const float* x, int64_t count) {
  const __m256 zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 product = _mm256_mul_ps(_mm256_loadu_ps(x + i), zero);
    const int bad = _mm256_movemask_ps(_mm256_cmp_ps(product, zero, _CMP_NEQ_UQ));
    if (bad) return i + __builtin_ctz(static_cast<unsigned>(bad));
  }
  return find_non_finite_scalar(x, i, count);
}

}  // namespace

int64_t find_non_finite(const float* x, int64_t count) {
  return use_avx2() ? find_non_finite_avx2(x, count) : find_non_finite_scalar(x, 0, count);
}

}  // namespace slmtune::kernels
