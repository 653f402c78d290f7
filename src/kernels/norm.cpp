#include "kernels/norm.hpp"

#include <cmath>
#include <mutex>
#include <vector>

#include "core/parallel.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/norm_reference.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

constexpr int64_t kRowGrain = 16;

SLMTUNE_TARGET_AVX2 void rmsnorm_forward_avx2(float* y, float* rstd, const float* x, const float* weight,
                                              int64_t rows, int64_t dim, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const __m256 v = _mm256_loadu_ps(xr + i);
      acc = _mm256_fmadd_ps(v, v, acc);
    }
    float sum_squares = simd::horizontal_sum(acc);
    for (; i < dim; ++i) sum_squares += xr[i] * xr[i];
    const float s = 1.0f / std::sqrt(sum_squares / static_cast<float>(dim) + eps);
    const __m256 vs = _mm256_set1_ps(s);
    for (i = 0; i + 8 <= dim; i += 8)
      _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + i), vs), _mm256_loadu_ps(weight + i)));
    for (; i < dim; ++i) yr[i] = xr[i] * s * weight[i];
    if (rstd) rstd[r] = s;
  }
}

SLMTUNE_TARGET_AVX2 void rmsnorm_backward_avx2(float* dx, float* dweight, const float* dy, const float* x,
                                               const float* weight, const float* rstd, int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    const float* gr = dy + r * dim;
    const float s = rstd[r];
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8)
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(gr + i), _mm256_loadu_ps(weight + i)),
                            _mm256_loadu_ps(xr + i), acc);
    float dot = simd::horizontal_sum(acc);
    for (; i < dim; ++i) dot += gr[i] * weight[i] * xr[i];
    const float correction = dot * s * s * s / static_cast<float>(dim);
    const __m256 vs = _mm256_set1_ps(s), vc = _mm256_set1_ps(correction);
    for (i = 0; i + 8 <= dim; i += 8) {
      const __m256 g = _mm256_loadu_ps(gr + i), xv = _mm256_loadu_ps(xr + i);
      if (dx) {
        const __m256 term = _mm256_fmsub_ps(_mm256_mul_ps(vs, g), _mm256_loadu_ps(weight + i), _mm256_mul_ps(xv, vc));
        _mm256_storeu_ps(dx + r * dim + i, _mm256_add_ps(_mm256_loadu_ps(dx + r * dim + i), term));
      }
      if (dweight)
        _mm256_storeu_ps(dweight + i, _mm256_fmadd_ps(_mm256_mul_ps(g, xv), vs, _mm256_loadu_ps(dweight + i)));
    }
    for (; i < dim; ++i) {
      if (dx) dx[r * dim + i] += s * gr[i] * weight[i] - xr[i] * correction;
      if (dweight) dweight[i] += gr[i] * xr[i] * s;
    }
  }
}

SLMTUNE_TARGET_AVX2 void layernorm_forward_avx2(float* y, float* mean, float* rstd, const float* x,
                                                const float* weight, const float* bias, int64_t rows, int64_t dim,
                                                float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(xr + i));
    float sum = simd::horizontal_sum(acc);
    for (; i < dim; ++i) sum += xr[i];
    const float m = sum / static_cast<float>(dim);
    const __m256 vm = _mm256_set1_ps(m);
    acc = _mm256_setzero_ps();
    for (i = 0; i + 8 <= dim; i += 8) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm);
      acc = _mm256_fmadd_ps(d, d, acc);
    }
    float var = simd::horizontal_sum(acc);
    for (; i < dim; ++i) var += (xr[i] - m) * (xr[i] - m);
    const float s = 1.0f / std::sqrt(var / static_cast<float>(dim) + eps);
    const __m256 vs = _mm256_set1_ps(s);
    for (i = 0; i + 8 <= dim; i += 8) {
      const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm), vs);
      const __m256 b = bias ? _mm256_loadu_ps(bias + i) : _mm256_setzero_ps();
      _mm256_storeu_ps(yr + i, _mm256_fmadd_ps(xhat, _mm256_loadu_ps(weight + i), b));
    }
    for (; i < dim; ++i) yr[i] = (xr[i] - m) * s * weight[i] + (bias ? bias[i] : 0.0f);
    if (mean) mean[r] = m;
    if (rstd) rstd[r] = s;
  }
}

SLMTUNE_TARGET_AVX2 void layernorm_backward_avx2(float* dx, float* dweight, float* dbias, const float* dy,
                                                 const float* x, const float* weight, const float* mean,
                                                 const float* rstd, int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    const float* gr = dy + r * dim;
    const float m = mean[r], s = rstd[r];
    const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s);
    __m256 acc_g = _mm256_setzero_ps(), acc_gx = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const __m256 g = _mm256_mul_ps(_mm256_loadu_ps(gr + i), _mm256_loadu_ps(weight + i));
      const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm), vs);
      acc_g = _mm256_add_ps(acc_g, g);
      acc_gx = _mm256_fmadd_ps(g, xhat, acc_gx);
    }
    float g_mean = simd::horizontal_sum(acc_g), gx_mean = simd::horizontal_sum(acc_gx);
    for (; i < dim; ++i) {
      const float g = gr[i] * weight[i];
      g_mean += g;
      gx_mean += g * (xr[i] - m) * s;
    }
    g_mean /= static_cast<float>(dim);
    gx_mean /= static_cast<float>(dim);
    const __m256 vgm = _mm256_set1_ps(g_mean), vgxm = _mm256_set1_ps(gx_mean);
    for (i = 0; i + 8 <= dim; i += 8) {
      const __m256 dyv = _mm256_loadu_ps(gr + i);
      const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm), vs);
      if (dx) {
        const __m256 g = _mm256_mul_ps(dyv, _mm256_loadu_ps(weight + i));
        const __m256 inner = _mm256_sub_ps(_mm256_sub_ps(g, vgm), _mm256_mul_ps(xhat, vgxm));
        _mm256_storeu_ps(dx + r * dim + i, _mm256_fmadd_ps(vs, inner, _mm256_loadu_ps(dx + r * dim + i)));
      }
      if (dweight) _mm256_storeu_ps(dweight + i, _mm256_fmadd_ps(dyv, xhat, _mm256_loadu_ps(dweight + i)));
      if (dbias) _mm256_storeu_ps(dbias + i, _mm256_add_ps(dyv, _mm256_loadu_ps(dbias + i)));
    }
    for (; i < dim; ++i) {
      const float xhat = (xr[i] - m) * s;
      if (dx) dx[r * dim + i] += s * (gr[i] * weight[i] - g_mean - xhat * gx_mean);
      if (dweight) dweight[i] += gr[i] * xhat;
      if (dbias) dbias[i] += gr[i];
    }
  }
}

// Parameter gradients sum over every row: each thread sums its rows into private buffers, then adds
// them in under a lock, so threads never write the same dweight element at once.
template <class Block>
void backward_rows(int64_t rows, int64_t dim, float* dweight, float* dbias, const Block& block) {
  std::mutex mutex;
  parallel_for(rows, kRowGrain, [&](int64_t first, int64_t last) {
    std::vector<float> local_weight(dweight ? dim : 0, 0.0f), local_bias(dbias ? dim : 0, 0.0f);
    block(first, last, dweight ? local_weight.data() : nullptr, dbias ? local_bias.data() : nullptr);
    std::lock_guard lock(mutex);
    for (int64_t i = 0; dweight && i < dim; ++i) dweight[i] += local_weight[i];
    for (int64_t i = 0; dbias && i < dim; ++i) dbias[i] += local_bias[i];
  });
}

}  // namespace

void rmsnorm_forward(float* y, float* rstd, const float* x, const float* weight, int64_t rows, int64_t dim,
                     float eps) {
  const bool avx2 = use_avx2();
  parallel_for(rows, kRowGrain, [&](int64_t first, int64_t last) {
    float* rstd_part = rstd ? rstd + first : nullptr;
    if (avx2)
      rmsnorm_forward_avx2(y + first * dim, rstd_part, x + first * dim, weight, last - first, dim, eps);
    else
      reference::rmsnorm_forward(y + first * dim, rstd_part, x + first * dim, weight, last - first, dim, eps);
  });
}

void rmsnorm_backward(float* dx, float* dweight, const float* dy, const float* x, const float* weight,
                      const float* rstd, int64_t rows, int64_t dim) {
  const bool avx2 = use_avx2();
  backward_rows(rows, dim, dweight, nullptr, [&](int64_t first, int64_t last, float* dw, float*) {
    float* dx_part = dx ? dx + first * dim : nullptr;
    if (avx2)
      rmsnorm_backward_avx2(dx_part, dw, dy + first * dim, x + first * dim, weight, rstd + first, last - first, dim);
    else
      reference::rmsnorm_backward(dx_part, dw, dy + first * dim, x + first * dim, weight, rstd + first,
                                  last - first, dim);
  });
}

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                       int64_t rows, int64_t dim, float eps) {
  const bool avx2 = use_avx2();
  parallel_for(rows, kRowGrain, [&](int64_t first, int64_t last) {
    float* mean_part = mean ? mean + first : nullptr;
    float* rstd_part = rstd ? rstd + first : nullptr;
    if (avx2)
      layernorm_forward_avx2(y + first * dim, mean_part, rstd_part, x + first * dim, weight, bias, last - first,
                             dim, eps);
    else
      reference::layernorm_forward(y + first * dim, mean_part, rstd_part, x + first * dim, weight, bias,
                                   last - first, dim, eps);
  });
}

void layernorm_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                        const float* weight, const float* mean, const float* rstd, int64_t rows, int64_t dim) {
  const bool avx2 = use_avx2();
  backward_rows(rows, dim, dweight, dbias, [&](int64_t first, int64_t last, float* dw, float* db) {
    float* dx_part = dx ? dx + first * dim : nullptr;
    if (avx2)
      layernorm_backward_avx2(dx_part, dw, db, dy + first * dim, x + first * dim, weight, mean + first,
                              rstd + first, last - first, dim);
    else
      reference::layernorm_backward(dx_part, dw, db, dy + first * dim, x + first * dim, weight, mean + first,
                                    rstd + first, last - first, dim);
  });
}

}  // namespace slmtune::kernels
