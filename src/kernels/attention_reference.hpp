#pragma once
// Attention written the textbook way, softmax(scale·QKᵀ + mask)·V with the whole score matrix of one
// head in memory: the reference the tiled kernel is tested against (and, in double, the one checked
// by finite differences). Same layouts and contract as attention.hpp.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/attention.hpp"

namespace slmtune::kernels::reference {

// probabilities[i·kv_len + j] for one (batch, head); rows with no admitted key are all zero.
// `segments` (null = none): a query sees only keys whose segment id equals its own.
template <class T>
std::vector<T> attention_probabilities(const T* q, const T* k, const uint8_t* key_mask, const AttentionShape& s,
                                       int64_t b, int64_t h, T scale, T* lse, const int32_t* segments = nullptr) {
  const int64_t capacity = s.kv_capacity ? s.kv_capacity : s.kv_len;
  const int64_t group = s.q_heads / s.kv_heads, hk = h / group, offset = s.kv_len - s.q_len;
  std::vector<T> p(static_cast<size_t>(s.q_len * s.kv_len), T(0));
  for (int64_t i = 0; i < s.q_len; ++i) {
    const T* qi = q + ((b * s.q_len + i) * s.q_heads + h) * s.head_dim;
    auto hidden = [&](int64_t j) {
      return (key_mask && !key_mask[b * capacity + j]) ||
             (segments && segments[b * capacity + j] != segments[b * capacity + offset + i]);
    };
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < s.kv_len; ++j) {
      if (j > offset + i || hidden(j)) continue;
      const T* kj = k + ((b * capacity + j) * s.kv_heads + hk) * s.head_dim;
      T dot = 0;
      for (int64_t c = 0; c < s.head_dim; ++c) dot += qi[c] * kj[c];
      p[i * s.kv_len + j] = dot * scale;
      m = std::max(m, dot * scale);
    }
    T sum = 0;
    for (int64_t j = 0; j <= offset + i && std::isfinite(m); ++j) {
      if (hidden(j)) continue;
      sum += (p[i * s.kv_len + j] = std::exp(p[i * s.kv_len + j] - m));
    }
    for (int64_t j = 0; j < s.kv_len && sum > 0; ++j) p[i * s.kv_len + j] /= sum;
    if (lse) lse[(b * s.q_heads + h) * s.q_len + i] = sum > 0 ? m + std::log(sum) : -std::numeric_limits<T>::infinity();
  }
  return p;
}

template <class T>
void attention_forward(T* out, T* lse, const T* q, const T* k, const T* v, const uint8_t* key_mask,
                       const AttentionShape& s, T scale, const int32_t* segments = nullptr) {
  const int64_t capacity = s.kv_capacity ? s.kv_capacity : s.kv_len;
  const int64_t group = s.q_heads / s.kv_heads, d = s.head_dim;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.q_heads; ++h) {
      const std::vector<T> p = attention_probabilities(q, k, key_mask, s, b, h, scale, lse, segments);
      for (int64_t i = 0; i < s.q_len; ++i) {
        T* oi = out + ((b * s.q_len + i) * s.q_heads + h) * d;
        for (int64_t c = 0; c < d; ++c) oi[c] = 0;
        for (int64_t j = 0; j < s.kv_len; ++j) {
          const T* vj = v + ((b * capacity + j) * s.kv_heads + h / group) * d;
          for (int64_t c = 0; c < d; ++c) oi[c] += p[i * s.kv_len + j] * vj[c];
        }
      }
    }
}

// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = scale·dS·K, dK = scale·dSᵀ·Q.
template <class T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* q, const T* k, const T* v,
                        const uint8_t* key_mask, const AttentionShape& s, T scale,
                        const int32_t* segments = nullptr) {
  const int64_t capacity = s.kv_capacity ? s.kv_capacity : s.kv_len;
  const int64_t group = s.q_heads / s.kv_heads, d = s.head_dim;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.q_heads; ++h) {
      const int64_t hk = h / group;
      const std::vector<T> p = attention_probabilities(q, k, key_mask, s, b, h, scale, static_cast<T*>(nullptr), segments);
      for (int64_t i = 0; i < s.q_len; ++i) {
        const int64_t qrow = ((b * s.q_len + i) * s.q_heads + h) * d;
        std::vector<T> dp(static_cast<size_t>(s.kv_len), T(0));
        T row_dot = 0;
        for (int64_t j = 0; j < s.kv_len; ++j) {
          const int64_t krow = ((b * capacity + j) * s.kv_heads + hk) * d;
          for (int64_t c = 0; c < d; ++c) {
            dp[j] += dout[qrow + c] * v[krow + c];
            if (dv) dv[krow + c] += p[i * s.kv_len + j] * dout[qrow + c];
          }
          row_dot += dp[j] * p[i * s.kv_len + j];
        }
        for (int64_t j = 0; j < s.kv_len; ++j) {
          const T ds = p[i * s.kv_len + j] * (dp[j] - row_dot) * scale;
          const int64_t krow = ((b * capacity + j) * s.kv_heads + hk) * d;
          for (int64_t c = 0; c < d; ++c) {
            if (dq) dq[qrow + c] += ds * k[krow + c];
            if (dk) dk[krow + c] += ds * q[qrow + c];
          }
        }
      }
    }
}

}  // namespace slmtune::kernels::reference
