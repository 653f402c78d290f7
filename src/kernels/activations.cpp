#include "kernels/activations.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.hpp"
#include "kernels/activations_reference.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

constexpr int64_t kElementGrain = 16384;
constexpr float kSmallestNormal = std::numeric_limits<float>::min();

// Subnormal results become 0: they carry nothing a float sum of probabilities can see, and every one
// fed to a matrix product (a cross-entropy's logit gradients are) takes the CPU's slow microcode path.
inline float flush_subnormal(float v) { return std::fabs(v) < kSmallestNormal ? 0.0f : v; }

SLMTUNE_TARGET_AVX2 inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, simd::exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

SLMTUNE_TARGET_AVX2 void swiglu_forward_row_avx2(float* out, const float* gate, const float* up, int64_t cols) {
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 g = _mm256_loadu_ps(gate + c);
    _mm256_storeu_ps(out + c, _mm256_mul_ps(_mm256_mul_ps(g, sigmoid8(g)), _mm256_loadu_ps(up + c)));
  }
  reference::swiglu_forward(out + c, gate + c, up + c, 1, cols - c, cols - c);
}

// What a gradient is added to: the buffer's values, or zero when the store overwrites them.
SLMTUNE_TARGET_AVX2 inline __m256 stored8(const float* buffer, bool overwrite) {
  return overwrite ? _mm256_setzero_ps() : _mm256_loadu_ps(buffer);
}

// The scalar tails add (the reference kernels do); an overwriting store clears them first.
void clear_if(bool overwrite, float* buffer, int64_t count) {
  if (overwrite && buffer) std::fill_n(buffer, count, 0.0f);
}

SLMTUNE_TARGET_AVX2 void swiglu_backward_row_avx2(float* dgate, float* dup, const float* dout, const float* gate,
                                                  const float* up, int64_t cols, bool overwrite) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 g = _mm256_loadu_ps(gate + c), d = _mm256_loadu_ps(dout + c);
    const __m256 s = sigmoid8(g);
    if (dgate) {
      const __m256 slope = _mm256_mul_ps(s, _mm256_fmadd_ps(g, _mm256_sub_ps(one, s), one));
      _mm256_storeu_ps(dgate + c,
                       _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_loadu_ps(up + c)), slope, stored8(dgate + c, overwrite)));
    }
    if (dup) _mm256_storeu_ps(dup + c, _mm256_fmadd_ps(d, _mm256_mul_ps(g, s), stored8(dup + c, overwrite)));
  }
  clear_if(overwrite, dgate ? dgate + c : nullptr, cols - c);
  clear_if(overwrite, dup ? dup + c : nullptr, cols - c);
  reference::swiglu_backward(dgate ? dgate + c : nullptr, dup ? dup + c : nullptr, dout + c, gate + c, up + c, 1,
                             cols - c, cols - c);
}

SLMTUNE_TARGET_AVX2 void gelu_forward_avx2(float* out, const float* x, int64_t count) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 scale = _mm256_set1_ps(reference::kGeluScale<float>);
  const __m256 cubic = _mm256_set1_ps(reference::kGeluCubic<float>);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 inner = _mm256_mul_ps(scale, _mm256_fmadd_ps(_mm256_mul_ps(cubic, v), _mm256_mul_ps(v, v), v));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, simd::tanh(inner))));
  }
  reference::gelu_forward(out + i, x + i, count - i);
}

SLMTUNE_TARGET_AVX2 void gelu_backward_avx2(float* dx, const float* dout, const float* x, int64_t count,
                                            bool overwrite) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), three = _mm256_set1_ps(3.0f);
  const __m256 scale = _mm256_set1_ps(reference::kGeluScale<float>);
  const __m256 cubic = _mm256_set1_ps(reference::kGeluCubic<float>);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i), v2 = _mm256_mul_ps(v, v);
    const __m256 t = simd::tanh(_mm256_mul_ps(scale, _mm256_fmadd_ps(_mm256_mul_ps(cubic, v), v2, v)));
    const __m256 du = _mm256_mul_ps(scale, _mm256_fmadd_ps(_mm256_mul_ps(three, cubic), v2, one));
    const __m256 sech2 = _mm256_fnmadd_ps(t, t, one);
    const __m256 slope = _mm256_mul_ps(half, _mm256_add_ps(_mm256_add_ps(one, t), _mm256_mul_ps(_mm256_mul_ps(v, sech2), du)));
    _mm256_storeu_ps(dx + i, _mm256_fmadd_ps(_mm256_loadu_ps(dout + i), slope, stored8(dx + i, overwrite)));
  }
  clear_if(overwrite, dx + i, count - i);
  reference::gelu_backward(dx + i, dout + i, x + i, count - i);
}

SLMTUNE_TARGET_AVX2 float softmax_row_avx2(float* out, const float* x, int64_t cols, float scale) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + c));
  float m = simd::horizontal_max(vmax);
  for (; c < cols; ++c) m = std::max(m, x[c]);
  const __m256 vm = _mm256_set1_ps(m);
  __m256 vsum = _mm256_setzero_ps();
  for (c = 0; c + 8 <= cols; c += 8) {
    const __m256 e = simd::exp(_mm256_sub_ps(_mm256_loadu_ps(x + c), vm));
    _mm256_storeu_ps(out + c, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = simd::horizontal_sum(vsum);
  for (; c < cols; ++c) sum += (out[c] = std::exp(x[c] - m));
  const float factor = scale / sum;
  const __m256 vfactor = _mm256_set1_ps(factor), smallest = _mm256_set1_ps(kSmallestNormal);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (c = 0; c + 8 <= cols; c += 8) {
    const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(out + c), vfactor);
    // |p| < FLT_MIN is false for NaN, so a NaN is kept for the numerics check downstream.
    const __m256 tiny = _mm256_cmp_ps(_mm256_andnot_ps(sign, p), smallest, _CMP_LT_OQ);
    _mm256_storeu_ps(out + c, _mm256_andnot_ps(tiny, p));
  }
  for (; c < cols; ++c) out[c] = flush_subnormal(out[c] * factor);
  return m + std::log(sum);
}

SLMTUNE_TARGET_AVX2 void softmax_backward_row_avx2(float* dx, const float* dout, const float* y, int64_t cols) {
  __m256 acc = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(dout + c), _mm256_loadu_ps(y + c), acc);
  float dot = simd::horizontal_sum(acc);
  for (; c < cols; ++c) dot += dout[c] * y[c];
  const __m256 vdot = _mm256_set1_ps(dot);
  for (c = 0; c + 8 <= cols; c += 8) {
    const __m256 term = _mm256_mul_ps(_mm256_loadu_ps(y + c), _mm256_sub_ps(_mm256_loadu_ps(dout + c), vdot));
    _mm256_storeu_ps(dx + c, _mm256_add_ps(_mm256_loadu_ps(dx + c), term));
  }
  for (; c < cols; ++c) dx[c] += y[c] * (dout[c] - dot);
}

int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, kElementGrain / std::max<int64_t>(cols, 1)); }

}  // namespace

void swiglu_forward(float* out, const float* gate, const float* up, int64_t rows, int64_t cols, int64_t stride) {
  const bool avx2 = use_avx2();
  parallel_for(rows, row_grain(cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      if (avx2)
        swiglu_forward_row_avx2(out + r * cols, gate + r * stride, up + r * stride, cols);
      else
        reference::swiglu_forward(out + r * cols, gate + r * stride, up + r * stride, 1, cols, stride);
    }
  });
}

void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t rows,
                     int64_t cols, int64_t stride, GradientStore store) {
  const bool avx2 = use_avx2(), overwrite = store == GradientStore::Overwrite;
  parallel_for(rows, row_grain(cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      float* dg = dgate ? dgate + r * stride : nullptr;
      float* du = dup ? dup + r * stride : nullptr;
      if (avx2) {
        swiglu_backward_row_avx2(dg, du, dout + r * cols, gate + r * stride, up + r * stride, cols, overwrite);
      } else {
        clear_if(overwrite, dg, cols);
        clear_if(overwrite, du, cols);
        reference::swiglu_backward(dg, du, dout + r * cols, gate + r * stride, up + r * stride, 1, cols, stride);
      }
    }
  });
}

void gelu_forward(float* out, const float* x, int64_t count) {
  const bool avx2 = use_avx2();
  parallel_for(count, kElementGrain, [&](int64_t first, int64_t last) {
    if (avx2)
      gelu_forward_avx2(out + first, x + first, last - first);
    else
      reference::gelu_forward(out + first, x + first, last - first);
  });
}

void gelu_backward(float* dx, const float* dout, const float* x, int64_t count, GradientStore store) {
  const bool avx2 = use_avx2(), overwrite = store == GradientStore::Overwrite;
  parallel_for(count, kElementGrain, [&](int64_t first, int64_t last) {
    if (avx2) {
      gelu_backward_avx2(dx + first, dout + first, x + first, last - first, overwrite);
    } else {
      clear_if(overwrite, dx + first, last - first);
      reference::gelu_backward(dx + first, dout + first, x + first, last - first);
    }
  });
}

void softmax_forward(float* out, const float* x, int64_t rows, int64_t cols, float* lse, float scale) {
  const bool avx2 = use_avx2();
  parallel_for(rows, row_grain(cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      float row_lse;
      if (avx2) {
        row_lse = softmax_row_avx2(out + r * cols, x + r * cols, cols, scale);
      } else {
        reference::softmax_forward(out + r * cols, x + r * cols, 1, cols, &row_lse);
        for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = flush_subnormal(out[r * cols + c] * scale);
      }
      if (lse) lse[r] = row_lse;
    }
  });
}

void softmax_backward(float* dx, const float* dout, const float* y, int64_t rows, int64_t cols) {
  const bool avx2 = use_avx2();
  parallel_for(rows, row_grain(cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      if (avx2)
        softmax_backward_row_avx2(dx + r * cols, dout + r * cols, y + r * cols, cols);
      else
        reference::softmax_backward(dx + r * cols, dout + r * cols, y + r * cols, 1, cols);
    }
  });
}

}  // namespace slmtune::kernels
