#include "peft/lora_avx512.hpp"

#include <immintrin.h>

#include <algorithm>

namespace slmtune::peft::avx512 {
namespace {

// Lanes 0 … count−1 of a 16-float vector (all of them from 16 up).
SLMTUNE_TARGET_AVX512 __mmask16 lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << count) - 1u);
}

// Up to 8 rows at a time keep 8 independent sums in flight, which two FMA units of latency 4 need;
// each load of the small factor then serves every row of the group. ROWS below 8 serve the tail.
constexpr int kGroup = 8;

// sum[i] = Σ_t a[i·a_stride + t] · b[t·b_stride + 0 … 15] for ROWS rows of a, t < depth: the one
// product both directions are made of (a 16-wide strip of the result, each load of b serving every
// row of the group).
template <int ROWS>
SLMTUNE_TARGET_AVX512 void strip_products(__m512* sum, const float* a, int64_t a_stride, const float* b,
                                          int64_t b_stride, int64_t depth, __mmask16 live) {
  for (int i = 0; i < ROWS; ++i) sum[i] = _mm512_setzero_ps();
  for (int64_t t = 0; t < depth; ++t) {
    const __m512 strip = _mm512_maskz_loadu_ps(live, b + t * b_stride);
    for (int i = 0; i < ROWS; ++i) sum[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * a_stride + t]), strip, sum[i]);
  }
}

// h = x · m for the group's rows.
template <int ROWS>
SLMTUNE_TARGET_AVX512 void project_group(float* h, const float* x, int64_t k, const float* m, int64_t r) {
  for (int64_t j0 = 0; j0 < r; j0 += 16) {
    const __mmask16 live = lanes(r - j0);
    __m512 sum[ROWS];
    strip_products<ROWS>(sum, x, k, m + j0, r, k, live);
    for (int i = 0; i < ROWS; ++i) _mm512_mask_storeu_ps(h + i * r + j0, live, sum[i]);
  }
}

// y[i, :] += scale·(h · n)[i, :] for the group's rows; with a mask, only where it keeps the element
// (element (i, t) is mask element first_element + i·k + t). Dropped lanes are not stored at all:
// adding 0 would turn a −0 into +0.
template <int ROWS>
SLMTUNE_TARGET_AVX512 void expand_add_group(float* y, int64_t y_stride, const float* h, int64_t r, const float* n,
                                            int64_t k, float scale, const DropoutMask* mask, uint64_t first_element) {
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t t0 = 0; t0 < k; t0 += 16) {
    const __mmask16 live = lanes(k - t0);
    __m512 sum[ROWS];
    strip_products<ROWS>(sum, h, r, n + t0, k, r, live);
    for (int i = 0; i < ROWS; ++i) {
      float* out = y + i * y_stride + t0;
      const __mmask16 store =
          mask ? live & keep16(*mask, first_element + static_cast<uint64_t>(i * k + t0)) : live;
      const __m512 old = _mm512_maskz_loadu_ps(live, out);
      _mm512_mask_storeu_ps(out, store, _mm512_add_ps(old, _mm512_mul_ps(sum[i], vscale)));
    }
  }
}

// g[j0 … j0+J−1, :] += h[:, j0 …]ᵀ · x, with J running sums per 16 columns of x.
template <int J>
SLMTUNE_TARGET_AVX512 void outer_group(float* g, const float* h, int64_t rows, int64_t r, const float* x, int64_t k) {
  for (int64_t t0 = 0; t0 < k; t0 += 16) {
    const __mmask16 live = lanes(k - t0);
    __m512 sum[J];
    for (int j = 0; j < J; ++j) sum[j] = _mm512_maskz_loadu_ps(live, g + j * k + t0);
    for (int64_t i = 0; i < rows; ++i) {
      const __m512 row = _mm512_maskz_loadu_ps(live, x + i * k + t0);
      for (int j = 0; j < J; ++j) sum[j] = _mm512_fmadd_ps(_mm512_set1_ps(h[i * r + j]), row, sum[j]);
    }
    for (int j = 0; j < J; ++j) _mm512_mask_storeu_ps(g + j * k + t0, live, sum[j]);
  }
}

// Calls F<n>::run(args…) for n = count (1 … kGroup): the tails of the row and rank loops.
template <template <int> class F, typename... Args>
void dispatch(int64_t count, Args&&... args) {
  switch (count) {
    case 1: return F<1>::run(args...);
    case 2: return F<2>::run(args...);
    case 3: return F<3>::run(args...);
    case 4: return F<4>::run(args...);
    case 5: return F<5>::run(args...);
    case 6: return F<6>::run(args...);
    case 7: return F<7>::run(args...);
    default: return F<8>::run(args...);
  }
}

template <int N>
struct Project {
  static void run(float* h, const float* x, int64_t k, const float* m, int64_t r) { project_group<N>(h, x, k, m, r); }
};
template <int N>
struct ExpandAdd {
  static void run(float* y, int64_t y_stride, const float* h, int64_t r, const float* n, int64_t k, float scale,
                  const DropoutMask* mask, uint64_t first_element) {
    expand_add_group<N>(y, y_stride, h, r, n, k, scale, mask, first_element);
  }
};
template <int N>
struct Outer {
  static void run(float* g, const float* h, int64_t rows, int64_t r, const float* x, int64_t k) {
    outer_group<N>(g, h, rows, r, x, k);
  }
};

}  // namespace

void project(float* h, const float* x, int64_t rows, int64_t k, const float* m, int64_t r) {
  for (int64_t i = 0; i < rows; i += kGroup)
    dispatch<Project>(std::min<int64_t>(kGroup, rows - i), h + i * r, x + i * k, k, m, r);
}

void expand_add(float* y, int64_t y_stride, const float* h, int64_t rows, int64_t r, const float* n, int64_t k,
                float scale) {
  for (int64_t i = 0; i < rows; i += kGroup)
    dispatch<ExpandAdd>(std::min<int64_t>(kGroup, rows - i), y + i * y_stride, y_stride, h + i * r, r, n, k, scale,
                        nullptr, uint64_t{0});
}

void expand_add_kept(float* dx, const float* h, int64_t rows, int64_t r, const float* n, int64_t k, float scale,
                     const DropoutMask& mask, uint64_t first_element) {
  for (int64_t i = 0; i < rows; i += kGroup)
    dispatch<ExpandAdd>(std::min<int64_t>(kGroup, rows - i), dx + i * k, k, h + i * r, r, n, k, scale, &mask,
                        first_element + static_cast<uint64_t>(i * k));
}

void accumulate_outer(float* g, const float* h, int64_t rows, int64_t r, const float* x, int64_t k) {
  for (int64_t j = 0; j < r; j += kGroup)
    dispatch<Outer>(std::min<int64_t>(kGroup, r - j), g + j * k, h + j, rows, r, x, k);
}

SLMTUNE_TARGET_AVX512 void drop(float* out, const float* x, int64_t count, const DropoutMask& mask, float scale,
                                uint64_t first_element) {
  const __m512 vscale = _mm512_set1_ps(scale);
  int64_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(out + i, _mm512_maskz_mul_ps(keep16(mask, first_element + static_cast<uint64_t>(i)),
                                                  _mm512_loadu_ps(x + i), vscale));
  for (; i < count; ++i) out[i] = mask.keep(first_element + static_cast<uint64_t>(i)) ? x[i] * scale : 0.0f;
}

}  // namespace slmtune::peft::avx512
