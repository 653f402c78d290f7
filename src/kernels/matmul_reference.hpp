#pragma once
// Plain loops for the linear layer, the reference the BLAS path is tested against. Templated so the
// finite-difference tests can run them in double precision.
#include <cstdint>

namespace slmtune::kernels::reference {

template <class T>
void linear_forward(T* y, const T* x, const T* weight, const T* bias, int64_t n, int64_t in, int64_t out) {
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      T sum = bias ? bias[o] : T(0);
      for (int64_t i = 0; i < in; ++i) sum += x[r * in + i] * weight[o * in + i];
      y[r * out + o] = sum;
    }
  }
}

template <class T>
void linear_backward(T* dx, T* dweight, T* dbias, const T* dy, const T* x, const T* weight, int64_t n,
                     int64_t in, int64_t out) {
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      const T g = dy[r * out + o];
      if (dbias) dbias[o] += g;
      for (int64_t i = 0; i < in; ++i) {
        if (dx) dx[r * in + i] += g * weight[o * in + i];
        if (dweight) dweight[o * in + i] += g * x[r * in + i];
      }
    }
  }
}

}  // namespace slmtune::kernels::reference
