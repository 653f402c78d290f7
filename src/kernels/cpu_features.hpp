#pragma once
// Which fast paths the running CPU allows. The build has no -march flags, so every AVX2 kernel is
// compiled with a target attribute and chosen here at run time; the portable scalar path stays the
// reference and the fallback.

namespace slmtune::kernels {

// AVX2 + FMA + F16C (every AVX2 CPU since Haswell and Zen has all three).
bool cpu_has_avx2();
// AVX-512 F, CD, BW, DQ and VL, with the registers saved by the operating system (core/blas_kernels.hpp).
bool cpu_has_avx512();
// Whether kernels take their AVX2 path: the CPU has it and it has not been switched off.
bool use_avx2();
// Whether kernels take an AVX-512 path: the CPU has it and the AVX2 path is on (one switch for both
// vector paths, so that switching it off leaves the portable one).
bool use_avx512();
// Tests and benchmarks switch the AVX2 path off to exercise or time the portable one.
void set_avx2_enabled(bool enabled);

}  // namespace slmtune::kernels
