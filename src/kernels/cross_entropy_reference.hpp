#pragma once
// Cross-entropy the direct way, with every logit in memory: the chunked kernel's reference (and, in
// double, the finite-difference check's). Same contract as cross_entropy.hpp with f32 weights.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace slmtune::kernels::reference {

template <class T>
T cross_entropy(const T* hidden, const T* weight, const T* bias, const int32_t* targets, int64_t rows, int64_t dim,
                int64_t vocab, T* dhidden, T* dweight, T* dbias, int32_t ignore_index, T grad_scale) {
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) count += targets[r] != ignore_index;
  if (count == 0) return T(0);
  T total = 0;
  std::vector<T> logits(static_cast<size_t>(vocab));
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] == ignore_index) continue;
    for (int64_t o = 0; o < vocab; ++o) {
      T sum = bias ? bias[o] : T(0);
      for (int64_t i = 0; i < dim; ++i) sum += hidden[r * dim + i] * weight[o * dim + i];
      logits[o] = sum;
    }
    const T m = *std::max_element(logits.begin(), logits.end());
    T sum = 0;
    for (T x : logits) sum += std::exp(x - m);
    const T lse = m + std::log(sum);
    total += lse - logits[targets[r]];
    for (int64_t o = 0; o < vocab; ++o) {
      const T g = (std::exp(logits[o] - lse) - T(o == targets[r])) * grad_scale / T(count);
      if (dbias) dbias[o] += g;
      for (int64_t i = 0; i < dim; ++i) {
        if (dhidden) dhidden[r * dim + i] += g * weight[o * dim + i];
        if (dweight) dweight[o * dim + i] += g * hidden[r * dim + i];
      }
    }
  }
  return total / T(count);
}

}  // namespace slmtune::kernels::reference
