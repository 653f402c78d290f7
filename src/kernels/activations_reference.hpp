#pragma once
// Plain loops for the activations: the portable path and the tests' reference (double for finite
// differences). Same contracts as activations.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace slmtune::kernels::reference {

template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <class T>
void swiglu_forward(T* out, const T* gate, const T* up, int64_t rows, int64_t cols, int64_t stride) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const T g = gate[r * stride + c];
      out[r * cols + c] = g * sigmoid(g) * up[r * stride + c];
    }
}

// d silu(g)/dg = σ(g)·(1 + g·(1 − σ(g))).
template <class T>
void swiglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t rows, int64_t cols,
                     int64_t stride) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * stride + c;
      const T g = gate[i], s = sigmoid(g), d = dout[r * cols + c];
      if (dgate) dgate[i] += d * up[i] * s * (T(1) + g * (T(1) - s));
      if (dup) dup[i] += d * g * s;
    }
}

template <class T>
constexpr T kGeluScale = T(0.7978845608028654);  // √(2/π)
template <class T>
constexpr T kGeluCubic = T(0.044715);

template <class T>
void gelu_forward(T* out, const T* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const T v = x[i];
    out[i] = T(0.5) * v * (T(1) + std::tanh(kGeluScale<T> * (v + kGeluCubic<T> * v * v * v)));
  }
}

template <class T>
void gelu_backward(T* dx, const T* dout, const T* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const T v = x[i];
    const T t = std::tanh(kGeluScale<T> * (v + kGeluCubic<T> * v * v * v));
    const T du = kGeluScale<T> * (T(1) + T(3) * kGeluCubic<T> * v * v);
    dx[i] += dout[i] * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * du);
  }
}

template <class T>
void softmax_forward(T* out, const T* x, int64_t rows, int64_t cols, T* lse = nullptr) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = out + r * cols;
    T m = xr[0];
    for (int64_t c = 1; c < cols; ++c) m = std::max(m, xr[c]);
    T sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += (yr[c] = std::exp(xr[c] - m));
    for (int64_t c = 0; c < cols; ++c) yr[c] /= sum;
    if (lse) lse[r] = m + std::log(sum);
  }
}

// dx = y ⊙ (dout − Σ dout·y).
template <class T>
void softmax_backward(T* dx, const T* dout, const T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    T dot = 0;
    for (int64_t c = 0; c < cols; ++c) dot += dout[r * cols + c] * y[r * cols + c];
    for (int64_t c = 0; c < cols; ++c) dx[r * cols + c] += y[r * cols + c] * (dout[r * cols + c] - dot);
  }
}

}  // namespace slmtune::kernels::reference
