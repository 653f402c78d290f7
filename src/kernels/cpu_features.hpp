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
// Whether kernels take an AVX-512 path: the CPU has it, it has not been switched off, and the AVX2
// path is on (switching AVX2 off leaves the portable path alone).
bool use_avx512();
// Tests and benchmarks switch the AVX2 path off to exercise or time the portable one, or AVX-512 off
// to exercise the AVX2 path on a CPU that has both.
void set_avx2_enabled(bool enabled);
void set_avx512_enabled(bool enabled);

}  // namespace slmtune::kernels
