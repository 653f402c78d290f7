#pragma once
// Plain loops for rotate-half RoPE: the portable path and the tests' reference. cos/sin are a
// RopeTable's rows for each token's position: [*, rotary_dim/2].
#include <cstdint>

namespace slmtune::kernels::reference {

// out[i] = x[i]·cos − x[i+h]·sin, out[i+h] = x[i+h]·cos + x[i]·sin, h = rotary_dim/2. `sign` = −1
// applies the transpose (the backward).
template <class T>
void rope_rotate(T* out, const T* x, const int32_t* positions, int64_t tokens, int64_t heads, int64_t head_dim,
                 int64_t rotary_dim, const float* cos_table, const float* sin_table, T sign) {
  const int64_t half = rotary_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* c = cos_table + positions[t] * half;
    const float* s = sin_table + positions[t] * half;
    for (int64_t h = 0; h < heads; ++h) {
      const T* xh = x + (t * heads + h) * head_dim;
      T* oh = out + (t * heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const T a = xh[i], b = xh[i + half], ci = T(c[i]), si = sign * T(s[i]);
        oh[i] = a * ci - b * si;
        oh[i + half] = b * ci + a * si;
      }
      for (int64_t i = rotary_dim; i < head_dim; ++i) oh[i] = xh[i];
    }
  }
}

}  // namespace slmtune::kernels::reference
