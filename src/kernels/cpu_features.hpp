#pragma once
// Which fast paths the running CPU allows. The build has no -march flags, so every AVX2 kernel is
// compiled with a target attribute and chosen here at run time; the portable scalar path stays the
// reference and the fallback.

namespace slmtune::kernels {

// AVX2 + FMA + F16C (every AVX2 CPU since Haswell and Zen has all three).
bool cpu_has_avx2();
// Whether kernels take their AVX2 path: the CPU has it and it has not been switched off.
bool use_avx2();
// Tests and benchmarks switch the AVX2 path off to exercise or time the portable one.
void set_avx2_enabled(bool enabled);

}  // namespace slmtune::kernels
