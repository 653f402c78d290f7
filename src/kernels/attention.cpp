#include "kernels/attention.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

// 64×64 tiles: a score tile (16 KiB) plus the Q, K, V tiles for head_dim 64 stay in L1/L2.
constexpr int64_t kQueryTile = 64;
constexpr int64_t kKeyTile = 64;
constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

// row[j] = exp(row[j] − shift) for j < n; returns the sum. −inf entries (masked) become 0.
SLMTUNE_TARGET_AVX2 float exp_shifted_avx2(float* row, int64_t n, float shift) {
  const __m256 vshift = _mm256_set1_ps(shift);
  __m256 vsum = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = simd::exp(_mm256_sub_ps(_mm256_loadu_ps(row + j), vshift));
    _mm256_storeu_ps(row + j, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = simd::horizontal_sum(vsum);
  for (; j < n; ++j) sum += (row[j] = std::exp(row[j] - shift));
  return sum;
}

float exp_shifted_scalar(float* row, int64_t n, float shift) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += (row[j] = std::exp(row[j] - shift));
  return sum;
}

float exp_shifted(float* row, int64_t n, float shift, bool avx2) {
  return avx2 ? exp_shifted_avx2(row, n, shift) : exp_shifted_scalar(row, n, shift);
}

SLMTUNE_TARGET_AVX2 float maximum_avx2(const float* row, int64_t n) {
  __m256 vmax = _mm256_set1_ps(kNegativeInfinity);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + j));
  float m = simd::horizontal_max(vmax);
  for (; j < n; ++j) m = std::max(m, row[j]);
  return m;
}

float maximum(const float* row, int64_t n, bool avx2) {
  return avx2 ? maximum_avx2(row, n) : *std::max_element(row, row + n);
}

// The geometry shared by forward and backward: where rows of q/k/v start and which keys a query sees.
struct Layout {
  const AttentionShape& s;
  const int32_t* segments;  // null: one segment per row
  int64_t capacity, group, offset, q_stride, kv_stride;
  Layout(const AttentionShape& shape, const int32_t* segment_ids)
      : s(shape),
        segments(segment_ids),
        capacity(shape.kv_capacity ? shape.kv_capacity : shape.kv_len),
        group(shape.q_heads / shape.kv_heads),
        offset(shape.kv_len - shape.q_len),
        q_stride(shape.q_heads * shape.head_dim),
        kv_stride(shape.kv_heads * shape.head_dim) {}
  int64_t q_index(int64_t b, int64_t i, int64_t h) const { return ((b * s.q_len + i) * s.q_heads + h) * s.head_dim; }
  int64_t kv_index(int64_t b, int64_t j, int64_t hk) const { return ((b * capacity + j) * s.kv_heads + hk) * s.head_dim; }
  // Keys [k0, k1) are needed by queries [q0, q1) only if the first key is not after the last query.
  bool tile_visible(int64_t q1, int64_t k0) const { return k0 <= offset + q1 - 1; }
  // Sets to −inf the scores of keys a query may not see: later positions, padding, other segments.
  void mask_scores(float* scores, const uint8_t* key_mask, int64_t b, int64_t q0, int64_t rows, int64_t k0,
                   int64_t cols) const {
    const uint8_t* mask = key_mask ? key_mask + b * capacity + k0 : nullptr;
    const int32_t* key_segment = segments ? segments + b * capacity + k0 : nullptr;
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t last_visible = offset + q0 + i - k0;  // relative to k0
      float* row = scores + i * cols;
      for (int64_t j = std::max<int64_t>(0, last_visible + 1); j < cols; ++j) row[j] = kNegativeInfinity;
      if (mask)
        for (int64_t j = 0; j < std::min(cols, last_visible + 1); ++j)
          if (!mask[j]) row[j] = kNegativeInfinity;
      if (key_segment) {
        const int32_t own = segments[b * capacity + offset + q0 + i];
        for (int64_t j = 0; j < std::min(cols, last_visible + 1); ++j)
          if (key_segment[j] != own) row[j] = kNegativeInfinity;
      }
    }
  }
  bool keys_all_masked(const uint8_t* key_mask, int64_t b, int64_t k0, int64_t k1) const {
    if (!key_mask) return false;
    for (int64_t j = k0; j < k1; ++j)
      if (key_mask[b * capacity + j]) return false;
    return true;
  }
};

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// One (batch, q head, query tile): stream the visible key tiles through an online softmax.
void forward_tile(float* out, float* lse, const float* q, const float* k, const float* v, const uint8_t* key_mask,
                  const Layout& L, int64_t b, int64_t h, int64_t q0, int64_t q1, float scale, bool avx2,
                  std::vector<float>& scores, std::vector<float>& acc) {
  const int64_t d = L.s.head_dim, rows = q1 - q0, hk = h / L.group;
  float row_max[kQueryTile], row_sum[kQueryTile];
  std::fill_n(row_max, rows, kNegativeInfinity);
  std::fill_n(row_sum, rows, 0.0f);
  std::fill_n(acc.data(), rows * d, 0.0f);
  const float* qt = q + L.q_index(b, q0, h);
  for (int64_t k0 = 0; k0 < L.s.kv_len && L.tile_visible(q1, k0); k0 += kKeyTile) {
    const int64_t k1 = std::min(L.s.kv_len, k0 + kKeyTile), cols = k1 - k0;
    if (L.keys_all_masked(key_mask, b, k0, k1)) continue;
    gemm(CblasNoTrans, CblasTrans, rows, cols, d, scale, qt, L.q_stride, k + L.kv_index(b, k0, hk), L.kv_stride,
         0.0f, scores.data(), cols);
    L.mask_scores(scores.data(), key_mask, b, q0, rows, k0, cols);
    for (int64_t i = 0; i < rows; ++i) {
      float* row = scores.data() + i * cols;
      const float tile_max = maximum(row, cols, avx2);
      const float new_max = std::max(row_max[i], tile_max);
      if (new_max == kNegativeInfinity) {  // nothing visible yet: the row stays empty
        std::fill_n(row, cols, 0.0f);
        continue;
      }
      const float correction = std::exp(row_max[i] - new_max);
      row_sum[i] = row_sum[i] * correction + exp_shifted(row, cols, new_max, avx2);
      row_max[i] = new_max;
      if (correction != 1.0f)
        for (int64_t c = 0; c < d; ++c) acc[i * d + c] *= correction;
    }
    gemm(CblasNoTrans, CblasNoTrans, rows, d, cols, 1.0f, scores.data(), cols, v + L.kv_index(b, k0, hk), L.kv_stride,
         1.0f, acc.data(), d);
  }
  for (int64_t i = 0; i < rows; ++i) {
    float* o = out + L.q_index(b, q0 + i, h);
    const float inverse = row_sum[i] > 0 ? 1.0f / row_sum[i] : 0.0f;
    for (int64_t c = 0; c < d; ++c) o[c] = acc[i * d + c] * inverse;
    if (lse) lse[(b * L.s.q_heads + h) * L.s.q_len + q0 + i] =
        row_sum[i] > 0 ? row_max[i] + std::log(row_sum[i]) : kNegativeInfinity;
  }
}

// One (batch, kv head): every key tile, against every q head of its group and every query tile that
// sees it. The task owns dk/dv of its kv head and dq of its q heads, so tasks never write the same
// element.
void backward_kv_head(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                      const float* v, const float* out, const float* lse, const uint8_t* key_mask, const Layout& L,
                      int64_t b, int64_t hk, float scale, bool avx2) {
  const AttentionShape& s = L.s;
  const int64_t d = s.head_dim;
  std::vector<float> p(kQueryTile * kKeyTile), dp(kQueryTile * kKeyTile);
  // D_i = Σ dO_i·O_i, the row term of the softmax backward, once per query of the group.
  std::vector<float> row_dot(static_cast<size_t>(L.group * s.q_len));
  for (int64_t g = 0; g < L.group; ++g)
    for (int64_t i = 0; i < s.q_len; ++i) {
      const int64_t index = L.q_index(b, i, hk * L.group + g);
      float sum = 0.0f;
      for (int64_t c = 0; c < d; ++c) sum += dout[index + c] * out[index + c];
      row_dot[g * s.q_len + i] = sum;
    }
  for (int64_t k0 = 0; k0 < s.kv_len; k0 += kKeyTile) {
    const int64_t k1 = std::min(s.kv_len, k0 + kKeyTile), cols = k1 - k0;
    if (L.keys_all_masked(key_mask, b, k0, k1)) continue;
    const float* kt = k + L.kv_index(b, k0, hk);
    const float* vt = v + L.kv_index(b, k0, hk);
    for (int64_t g = 0; g < L.group; ++g) {
      const int64_t h = hk * L.group + g;
      // The first query tile that sees key k0 holds query k0 − offset.
      const int64_t first_tile = std::max<int64_t>(0, (k0 - L.offset) / kQueryTile);
      for (int64_t q0 = first_tile * kQueryTile; q0 < s.q_len; q0 += kQueryTile) {
        const int64_t q1 = std::min(s.q_len, q0 + kQueryTile), rows = q1 - q0;
        if (!L.tile_visible(q1, k0)) continue;
        const float* qt = q + L.q_index(b, q0, h);
        const float* dot = dout + L.q_index(b, q0, h);
        gemm(CblasNoTrans, CblasTrans, rows, cols, d, scale, qt, L.q_stride, kt, L.kv_stride, 0.0f, p.data(), cols);
        L.mask_scores(p.data(), key_mask, b, q0, rows, k0, cols);
        const float* row_lse = lse + (b * s.q_heads + h) * s.q_len + q0;
        for (int64_t i = 0; i < rows; ++i) {
          if (row_lse[i] == kNegativeInfinity)
            std::fill_n(p.data() + i * cols, cols, 0.0f);
          else
            exp_shifted(p.data() + i * cols, cols, row_lse[i], avx2);
        }
        if (dv) gemm(CblasTrans, CblasNoTrans, cols, d, rows, 1.0f, p.data(), cols, dot, L.q_stride, 1.0f,
                     dv + L.kv_index(b, k0, hk), L.kv_stride);
        if (!dq && !dk) continue;
        gemm(CblasNoTrans, CblasTrans, rows, cols, d, 1.0f, dot, L.q_stride, vt, L.kv_stride, 0.0f, dp.data(), cols);
        for (int64_t i = 0; i < rows; ++i) {
          const float di = row_dot[g * s.q_len + q0 + i];
          for (int64_t j = 0; j < cols; ++j) dp[i * cols + j] = p[i * cols + j] * (dp[i * cols + j] - di);
        }
        if (dq) gemm(CblasNoTrans, CblasNoTrans, rows, d, cols, scale, dp.data(), cols, kt, L.kv_stride, 1.0f,
                     dq + L.q_index(b, q0, h), L.q_stride);
        if (dk) gemm(CblasTrans, CblasNoTrans, cols, d, rows, scale, dp.data(), cols, qt, L.q_stride, 1.0f,
                     dk + L.kv_index(b, k0, hk), L.kv_stride);
      }
    }
  }
}

}  // namespace

void check_attention_shape(const AttentionShape& s) {
  if (s.batch <= 0 || s.q_len <= 0 || s.kv_len <= 0 || s.q_heads <= 0 || s.kv_heads <= 0 || s.head_dim <= 0)
    fail("attention: sizes must be positive (batch {}, q_len {}, kv_len {}, q_heads {}, kv_heads {}, head_dim {})",
         s.batch, s.q_len, s.kv_len, s.q_heads, s.kv_heads, s.head_dim);
  if (s.q_heads % s.kv_heads != 0)
    fail("attention: q_heads {} is not a multiple of kv_heads {}", s.q_heads, s.kv_heads);
  if (s.q_len > s.kv_len) fail("attention: q_len {} exceeds kv_len {}", s.q_len, s.kv_len);
  if (s.kv_capacity != 0 && s.kv_capacity < s.kv_len)
    fail("attention: kv_capacity {} is smaller than kv_len {}", s.kv_capacity, s.kv_len);
}

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                       const uint8_t* key_mask, const AttentionShape& shape, float scale) {
  attention_forward(out, lse, q, k, v, key_mask, nullptr, shape, scale);
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, const uint8_t* key_mask,
                        const AttentionShape& shape, float scale) {
  attention_backward(dq, dk, dv, dout, q, k, v, out, lse, key_mask, nullptr, shape, scale);
}

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                       const uint8_t* key_mask, const int32_t* segment_ids, const AttentionShape& shape, float scale) {
  check_attention_shape(shape);
  const Layout L(shape, segment_ids);
  const bool avx2 = use_avx2();
  const int64_t q_tiles = (shape.q_len + kQueryTile - 1) / kQueryTile;
  const int64_t tasks = shape.batch * shape.q_heads * q_tiles;
  parallel_for(tasks, 1, [&](int64_t first, int64_t last) {
    std::vector<float> scores(kQueryTile * kKeyTile), acc(static_cast<size_t>(kQueryTile * shape.head_dim));
    for (int64_t task = first; task < last; ++task) {
      const int64_t tile = task % q_tiles, h = (task / q_tiles) % shape.q_heads, b = task / (q_tiles * shape.q_heads);
      const int64_t q0 = tile * kQueryTile, q1 = std::min(shape.q_len, q0 + kQueryTile);
      forward_tile(out, lse, q, k, v, key_mask, L, b, h, q0, q1, scale, avx2, scores, acc);
    }
  });
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, const uint8_t* key_mask,
                        const int32_t* segment_ids, const AttentionShape& shape, float scale) {
  check_attention_shape(shape);
  if (!out || !lse) fail("attention_backward: needs the forward's out and lse (got null)");
  const Layout L(shape, segment_ids);
  const bool avx2 = use_avx2();
  parallel_for(shape.batch * shape.kv_heads, 1, [&](int64_t first, int64_t last) {
    for (int64_t task = first; task < last; ++task)
      backward_kv_head(dq, dk, dv, dout, q, k, v, out, lse, key_mask, L, task / shape.kv_heads,
                       task % shape.kv_heads, scale, avx2);
  });
}

}  // namespace slmtune::kernels
