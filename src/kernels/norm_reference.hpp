#pragma once
// Plain loops for RMSNorm and LayerNorm: the portable path and the tests' reference (in double for
// finite differences). Same contracts as norm.hpp.
#include <cmath>
#include <cstdint>

namespace slmtune::kernels::reference {

template <class T>
void rmsnorm_forward(T* y, T* rstd, const T* x, const T* weight, int64_t rows, int64_t dim, T eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * dim;
    T sum_squares = 0;
    for (int64_t i = 0; i < dim; ++i) sum_squares += xr[i] * xr[i];
    const T s = T(1) / std::sqrt(sum_squares / T(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = xr[i] * s * weight[i];
    if (rstd) rstd[r] = s;
  }
}

// With g = dy·w: dx = s·g − x·s³·mean(g·x), because d(s)/dx = −s³·x/dim.
template <class T>
void rmsnorm_backward(T* dx, T* dweight, const T* dy, const T* x, const T* weight, const T* rstd, int64_t rows,
                      int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * dim;
    const T* gr = dy + r * dim;
    const T s = rstd[r];
    T dot = 0;
    for (int64_t i = 0; i < dim; ++i) dot += gr[i] * weight[i] * xr[i];
    const T correction = dot * s * s * s / T(dim);
    for (int64_t i = 0; i < dim; ++i) {
      if (dx) dx[r * dim + i] += s * gr[i] * weight[i] - xr[i] * correction;
      if (dweight) dweight[i] += gr[i] * xr[i] * s;
    }
  }
}

template <class T>
void layernorm_forward(T* y, T* mean, T* rstd, const T* x, const T* weight, const T* bias, int64_t rows,
                       int64_t dim, T eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * dim;
    T m = 0;
    for (int64_t i = 0; i < dim; ++i) m += xr[i];
    m /= T(dim);
    T var = 0;
    for (int64_t i = 0; i < dim; ++i) var += (xr[i] - m) * (xr[i] - m);
    const T s = T(1) / std::sqrt(var / T(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) y[r * dim + i] = (xr[i] - m) * s * weight[i] + (bias ? bias[i] : T(0));
    if (mean) mean[r] = m;
    if (rstd) rstd[r] = s;
  }
}

// With x̂ = (x−mean)·s and g = dy·w: dx = s·(g − mean(g) − x̂·mean(g·x̂)).
template <class T>
void layernorm_backward(T* dx, T* dweight, T* dbias, const T* dy, const T* x, const T* weight, const T* mean,
                        const T* rstd, int64_t rows, int64_t dim) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * dim;
    const T* gr = dy + r * dim;
    const T m = mean[r], s = rstd[r];
    T g_mean = 0, gx_mean = 0;
    for (int64_t i = 0; i < dim; ++i) {
      const T g = gr[i] * weight[i];
      g_mean += g;
      gx_mean += g * (xr[i] - m) * s;
    }
    g_mean /= T(dim);
    gx_mean /= T(dim);
    for (int64_t i = 0; i < dim; ++i) {
      const T xhat = (xr[i] - m) * s;
      if (dx) dx[r * dim + i] += s * (gr[i] * weight[i] - g_mean - xhat * gx_mean);
      if (dweight) dweight[i] += gr[i] * xhat;
      if (dbias) dbias[i] += gr[i];
    }
  }
}

}  // namespace slmtune::kernels::reference
