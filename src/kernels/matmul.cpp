#include "kernels/matmul.hpp"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "core/half.hpp"
#include "core/parallel.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

// A tile of about 64K floats (256 KiB) stays in L2 while sgemm streams the activations past it.
constexpr int64_t kTileFloats = 64 * 1024;
constexpr int64_t kMinTileLines = 16;

// Lines (weight rows or columns) per tile for `total` lines of `line_length` floats. The tile count
// is rounded up to a multiple of the thread count and the lines spread evenly, because parallel_for
// hands each thread an equal run of tiles: 5 tiles on 2 threads would leave one idle 40% of the time.
int64_t tile_lines(int64_t total, int64_t line_length) {
  const int64_t max_lines = std::max<int64_t>(kMinTileLines, kTileFloats / std::max<int64_t>(line_length, 1));
  const int64_t workers = std::max(1, threads());
  int64_t tiles = (total + max_lines - 1) / max_lines;
  tiles = (tiles + workers - 1) / workers * workers;
  return std::max<int64_t>(1, (total + tiles - 1) / tiles);
}

SLMTUNE_TARGET_AVX2 void bf16_to_f32_avx2(const uint16_t* src, float* dst, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
  }
  for (; i < count; ++i) dst[i] = bf16_to_f32(src[i]);
}

SLMTUNE_TARGET_AVX2 void f16_to_f32_avx2(const uint16_t* src, float* dst, int64_t count) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < count; ++i) dst[i] = f16_to_f32(src[i]);
}

// Decoding's matrix-vector product, y[r] (+)= W[r, :] · x for `rows` consecutive rows of W. Each row is
// read start to end with four accumulators, so a thread walking a run of rows reads one sequential
// stream, which the hardware prefetcher follows at close to a core's memory bandwidth. OpenBLAS' sgemv
// walks several rows at once (several short streams) and was measured here at ~15 GB/s per core
// against ~25 GB/s for this loop on the same Qwen2.5-0.5B matrices: decoding streams every weight once
// per token, so that ratio is the decode speed-up. `accumulate` adds to y (the bias already in it).
SLMTUNE_TARGET_AVX2 void dot_rows_avx2(float* y, const float* w, const float* x, int64_t rows, int64_t cols,
                                       bool accumulate) {
  for (int64_t r = 0; r < rows; ++r, w += cols) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(x + c), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 8), _mm256_loadu_ps(x + c + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 16), _mm256_loadu_ps(x + c + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 24), _mm256_loadu_ps(x + c + 24), a3);
    }
    for (; c + 8 <= cols; c += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(x + c), a0);
    float sum = simd::horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; c < cols; ++c) sum += w[c] * x[c];
    y[r] = accumulate ? y[r] + sum : sum;
  }
}

// The sum of a vector's lanes, in GCC's vector extension: GCC 12's _mm512_reduce_add_ps and the
// shuffle intrinsics it would take trip its own -Wmaybe-uninitialized.
typedef float f32x16 __attribute__((vector_size(64)));
SLMTUNE_TARGET_AVX512 inline float horizontal_sum_avx512(__m512 v) {
  f32x16 u = reinterpret_cast<f32x16>(v);
  u += __builtin_shufflevector(u, u, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  u += __builtin_shufflevector(u, u, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
  u += __builtin_shufflevector(u, u, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  u += __builtin_shufflevector(u, u, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
  return u[0];
}

// Decoding's product on AVX-512, for f32, bf16 and f16 weights alike. Four rows at a time: each
// 16-column slice of x is loaded once for four rows, and every 64-byte line of weights is prefetched
// kGemvPrefetchBytes ahead. The hardware prefetcher stops at each 4 KiB page and starts again slowly;
// the software prefetch carries the streams across pages and into the next rows. On SmolLM2-135M's
// decoding matrices (2 threads, this host; bench/README.md, "decoding on AVX-512"): the AVX2 loop
// ~22 GB/s, this one ~30, a plain AVX-512 read with no arithmetic ~27. Half-precision weights widen to
// f32 in registers (bf16: the bits shifted up; f16: vcvtph2ps), so they stream once at half the bytes
// and no tile is written and read back. Prefetches past the end of the matrix are harmless.
struct F32Weights {
  using Element = float;
  SLMTUNE_TARGET_AVX512 static __m512 load(const float* w) { return _mm512_loadu_ps(w); }
  SLMTUNE_TARGET_AVX512 static __m512 load(const float* w, __mmask16 live) { return _mm512_maskz_loadu_ps(live, w); }
};

// (The zero-masking forms with every lane set: GCC 12's unmasked ones trip its -Wmaybe-uninitialized.)
template <bool kBf16>
struct HalfWeights {
  using Element = uint16_t;
  SLMTUNE_TARGET_AVX512 static __m512 widen(__m256i half) {
    constexpr __mmask16 all = 0xffff;
    if constexpr (kBf16)
      return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(all, _mm512_maskz_cvtepu16_epi32(all, half), 16));
    else
      return _mm512_maskz_cvtph_ps(all, half);
  }
  SLMTUNE_TARGET_AVX512 static __m512 load(const uint16_t* w) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)));
  }
  SLMTUNE_TARGET_AVX512 static __m512 load(const uint16_t* w, __mmask16 live) {
    return widen(_mm256_maskz_loadu_epi16(live, w));
  }
};

// y[i] (+)= W[i, :] · x for the group's ROWS consecutive rows.
template <class Weights, int ROWS>
SLMTUNE_TARGET_AVX512 void dot_row_group(float* y, const typename Weights::Element* w, const float* x, int64_t cols,
                                         bool accumulate) {
  // 16 elements of a row per step: one 64-byte line of f32, half a line of bf16/f16.
  constexpr int64_t kStepsPerLine = 64 / (16 * sizeof(typename Weights::Element));
  __m512 sum[ROWS];
  for (int i = 0; i < ROWS; ++i) sum[i] = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    if ((c / 16) % kStepsPerLine == 0)
      for (int i = 0; i < ROWS; ++i)
        _mm_prefetch(reinterpret_cast<const char*>(w + i * cols + c) + kGemvPrefetchBytes, _MM_HINT_T0);
    const __m512 xs = _mm512_loadu_ps(x + c);
    for (int i = 0; i < ROWS; ++i) sum[i] = _mm512_fmadd_ps(Weights::load(w + i * cols + c), xs, sum[i]);
  }
  if (c < cols) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (cols - c)) - 1);
    const __m512 xs = _mm512_maskz_loadu_ps(tail, x + c);
    for (int i = 0; i < ROWS; ++i) sum[i] = _mm512_fmadd_ps(Weights::load(w + i * cols + c, tail), xs, sum[i]);
  }
  for (int i = 0; i < ROWS; ++i) {
    const float total = horizontal_sum_avx512(sum[i]);
    y[i] = accumulate ? y[i] + total : total;
  }
}

template <class Weights>
SLMTUNE_TARGET_AVX512 void dot_rows_avx512(float* y, const typename Weights::Element* w, const float* x,
                                           int64_t rows, int64_t cols, bool accumulate) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) dot_row_group<Weights, 4>(y + r, w + r * cols, x, cols, accumulate);
  for (; r < rows; ++r) dot_row_group<Weights, 1>(y + r, w + r * cols, x, cols, accumulate);
}

// One input row through f32 weights (bias already in y when `accumulate`): threads take contiguous
// runs of at least gemv_row_grain(cols) rows.
void gemv_f32(float* y, const float* w, const float* x, int64_t rows, int64_t cols, bool accumulate) {
  if (use_avx512()) {
    parallel_for(rows, gemv_row_grain(cols), [&](int64_t first, int64_t last) {
      dot_rows_avx512<F32Weights>(y + first, w + first * cols, x, last - first, cols, accumulate);
    });
    return;
  }
  if (!use_avx2()) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols), 1.0f, w,
                static_cast<int>(cols), x, 1, accumulate ? 1.0f : 0.0f, y, 1);
    return;
  }
  parallel_for(rows, gemv_row_grain(cols), [&](int64_t first, int64_t last) {
    dot_rows_avx2(y + first, w + first * cols, x, last - first, cols, accumulate);
  });
}

void check_weight(const WeightMatrix& weight, const char* where) {
  if (!weight.data || weight.rows <= 0 || weight.cols <= 0)
    fail("{}: weight matrix is empty ({}x{})", where, weight.rows, weight.cols);
  if (weight.dtype != DType::F32 && weight.dtype != DType::BF16 && weight.dtype != DType::F16)
    fail("{}: weight dtype {} is not F32, BF16 or F16", where, dtype_name(weight.dtype));
}

const uint16_t* half_data(const WeightMatrix& weight) { return static_cast<const uint16_t*>(weight.data); }

// y[:, r0:r1] = x · W[r0:r1, :]ᵀ, one tile of output features at a time; the tiles are independent,
// so threads take disjoint ranges and each expands into its own buffer (sgemm runs single-threaded
// inside the parallel region).
void forward_expanded(float* y, const float* x, const WeightMatrix& w, const float* bias, int64_t n) {
  const int64_t in = w.cols, out = w.rows;
  if (n == 1 && use_avx512()) {  // decoding: widen in registers, no tile (see dot_row_group)
    if (bias) std::copy(bias, bias + out, y);
    parallel_for(out, gemv_row_grain(in), [&](int64_t first, int64_t last) {
      const uint16_t* rows = half_data(w) + first * in;
      if (w.dtype == DType::BF16)
        dot_rows_avx512<HalfWeights<true>>(y + first, rows, x, last - first, in, bias != nullptr);
      else
        dot_rows_avx512<HalfWeights<false>>(y + first, rows, x, last - first, in, bias != nullptr);
    });
    return;
  }
  const int64_t lines = tile_lines(out, in);
  const int64_t tiles = (out + lines - 1) / lines;
  parallel_for(tiles, 1, [&](int64_t first, int64_t last) {
    std::vector<float> tile(static_cast<size_t>(lines * in));
    for (int64_t t = first; t < last; ++t) {
      const int64_t r0 = t * lines, count = std::min(lines, out - r0);
      expand_to_f32(half_data(w) + r0 * in, w.dtype, count * in, tile.data());
      float beta = 0.0f;
      if (bias) {
        for (int64_t r = 0; r < n; ++r) std::copy(bias + r0, bias + r0 + count, y + r * out + r0);
        beta = 1.0f;
      }
      if (n == 1)  // decoding: see gemv_f32 (inside this parallel region it runs on the calling thread)
        gemv_f32(y + r0, tile.data(), x, count, in, bias != nullptr);
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(count),
                    static_cast<int>(in), 1.0f, x, static_cast<int>(in), tile.data(), static_cast<int>(in), beta,
                    y + r0, static_cast<int>(out));
    }
  });
}

// dx += dy · W for half weights. With enough rows, threads split the rows and each walks all of W
// in row tiles (contiguous to expand; sgemm gets a wide N = in and K = tile rows). With few rows
// (a short prompt), threads split W's columns instead: dx[:, c0:c1] += dy · W[:, c0:c1], disjoint
// columns of dx per tile.
constexpr int64_t kRowsPerThreadForRowSplit = 64;

void backward_input_expanded(float* dx, const float* dy, const WeightMatrix& w, int64_t n) {
  const int64_t in = w.cols, out = w.rows;
  if (n >= kRowsPerThreadForRowSplit * std::max(1, threads())) {
    const int64_t lines = std::min(out, std::max<int64_t>(kMinTileLines, kTileFloats / in));
    parallel_for(n, kRowsPerThreadForRowSplit, [&](int64_t first, int64_t last) {
      std::vector<float> tile(static_cast<size_t>(lines * in));
      for (int64_t r0 = 0; r0 < out; r0 += lines) {
        const int64_t count = std::min(lines, out - r0);
        expand_to_f32(half_data(w) + r0 * in, w.dtype, count * in, tile.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(last - first), static_cast<int>(in),
                    static_cast<int>(count), 1.0f, dy + first * out + r0, static_cast<int>(out), tile.data(),
                    static_cast<int>(in), 1.0f, dx + first * in, static_cast<int>(in));
      }
    });
    return;
  }
  const int64_t width = tile_lines(in, out);
  const int64_t tiles = (in + width - 1) / width;
  parallel_for(tiles, 1, [&](int64_t first, int64_t last) {
    std::vector<float> tile(static_cast<size_t>(out * width));
    for (int64_t t = first; t < last; ++t) {
      const int64_t c0 = t * width, count = std::min(width, in - c0);
      for (int64_t r = 0; r < out; ++r)
        expand_to_f32(half_data(w) + r * in + c0, w.dtype, count, tile.data() + r * count);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(count),
                  static_cast<int>(out), 1.0f, dy, static_cast<int>(out), tile.data(), static_cast<int>(count),
                  1.0f, dx + c0, static_cast<int>(in));
    }
  });
}

}  // namespace

int64_t gemv_row_grain(int64_t cols) { return std::max<int64_t>(1, (16 * 1024) / cols); }

void expand_to_f32(const void* source, DType dtype, int64_t count, float* destination) {
  const auto* half = static_cast<const uint16_t*>(source);
  switch (dtype) {
    case DType::F32:
      std::copy_n(static_cast<const float*>(source), count, destination);
      return;
    case DType::BF16:
      if (use_avx2()) return bf16_to_f32_avx2(half, destination, count);
      return bf16_to_f32(half, destination, static_cast<size_t>(count));
    case DType::F16:
      if (use_avx2()) return f16_to_f32_avx2(half, destination, count);
      return f16_to_f32(half, destination, static_cast<size_t>(count));
    default:
      fail("expand_to_f32: dtype {} is not F32, BF16 or F16", dtype_name(dtype));
  }
}

void linear_forward(float* y, const float* x, const WeightMatrix& weight, const float* bias, int64_t n) {
  check_weight(weight, "linear_forward");
  if (n <= 0) return;
  if (weight.dtype != DType::F32) return forward_expanded(y, x, weight, bias, n);
  const int64_t in = weight.cols, out = weight.rows;
  float beta = 0.0f;
  if (bias) {
    for (int64_t r = 0; r < n; ++r) std::copy(bias, bias + out, y + r * out);
    beta = 1.0f;
  }
  if (n == 1) {
    // Decoding: one row. sgemm would first pack (copy) the whole weight matrix for its kernel, which
    // doubles the memory traffic of a bandwidth-bound step; gemv_f32 streams the weights once.
    gemv_f32(y, static_cast<const float*>(weight.data), x, out, in, bias != nullptr);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(out),
              static_cast<int>(in), 1.0f, x, static_cast<int>(in), static_cast<const float*>(weight.data),
              static_cast<int>(in), beta, y, static_cast<int>(out));
}

void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const WeightMatrix& weight, int64_t n, GradientStore dx_store) {
  check_weight(weight, "linear_backward");
  if (n <= 0) return;
  const int in = static_cast<int>(weight.cols), out = static_cast<int>(weight.rows);
  const bool overwrite = dx_store == GradientStore::Overwrite;
  if (dx) {
    if (weight.dtype == DType::F32) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), in, out, 1.0f, dy, out,
                  static_cast<const float*>(weight.data), in, overwrite ? 0.0f : 1.0f, dx, in);
    } else {
      // The tiles add up into dx, so it starts from zero (beta 0 never reads the old values, NaN included).
      if (overwrite) std::fill_n(dx, n * in, 0.0f);
      backward_input_expanded(dx, dy, weight, n);
    }
  }
  if (dweight)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, static_cast<int>(n), 1.0f, dy, out, x, in,
                1.0f, dweight, in);
  if (dbias) {
    // Column sums; parallel over output features so each thread owns its slice of dbias.
    parallel_for(out, 256, [&](int64_t first, int64_t last) {
      for (int64_t r = 0; r < n; ++r)
        for (int64_t o = first; o < last; ++o) dbias[o] += dy[r * out + o];
    });
  }
}

}  // namespace slmtune::kernels
