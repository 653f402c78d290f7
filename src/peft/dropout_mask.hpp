#pragma once
// LoRA dropout's mask: a pure function of (seed, step, element index), so that forward, backward and
// a recompute under activation checkpointing all see the same mask without stored state, and so that
// any split of the elements among threads or row blocks draws the same decisions.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/simd_target.hpp"

namespace slmtune::peft {

// splitmix64's finaliser: a counter-based draw, so a mask element needs no generator state.
inline uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Element e of a step's mask is kept when lowbias32(key + e), a 32-bit hash (Wellons' lowbias32:
// two multiplies, full avalanche), is at least ⌈p·2³²⌉: a draw that keeps an element with
// probability 1 − p to within 2⁻³². The key mixes the adapter's seed and the step with splitmix64, so
// each (adapter, micro-batch) gets its own stream. 32-bit lanes put 16 draws in one AVX-512 vector
// with two 32-bit multiplies; the 64-bit splitmix64 per element it replaces needed four 64-bit ones
// (three uops each) for the same 16, and was most of the cost of applying the mask. Element indices
// wrap at 2³² (an input of 16 GiB for one layer), where the mask would repeat.
inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}

struct DropoutMask {
  uint32_t key;
  uint32_t threshold;
  DropoutMask(uint64_t seed, uint64_t step, float p)
      : key(static_cast<uint32_t>(mix(seed ^ mix(step + 0x9e3779b97f4a7c15ULL)))),
        // p < 1 (validated) is at most 1 − 2⁻²⁴ as a float, so the threshold fits in 32 bits.
        threshold(static_cast<uint32_t>(std::min(std::ceil(static_cast<double>(p) * 0x1.0p32), 0x1.0p32 - 1.0))) {}
  bool keep(uint64_t element) const { return lowbias32(key + static_cast<uint32_t>(element)) >= threshold; }
};

// GCC's vector extension rather than shift intrinsics: GCC 12's _mm512_srli_epi32 trips its own
// -Wmaybe-uninitialized.
typedef uint32_t u32x16 __attribute__((vector_size(64)));

// Keep flags for elements e … e+15, the same decisions as DropoutMask::keep.
SLMTUNE_TARGET_AVX512 inline __mmask16 keep16(const DropoutMask& mask, uint64_t e) {
  const uint32_t first = mask.key + static_cast<uint32_t>(e);
  u32x16 x = u32x16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15} + first;
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return _mm512_cmpge_epu32_mask(reinterpret_cast<__m512i>(x), _mm512_set1_epi32(static_cast<int>(mask.threshold)));
}

}  // namespace slmtune::peft
