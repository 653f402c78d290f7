#pragma once
// The target attributes of the vector paths. The build has no -march flags, so each fast function is
// compiled for its instruction set by attribute and called only after cpu_features.hpp said the CPU
// has it (use_avx2(), use_avx512()).

#define SLMTUNE_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define SLMTUNE_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
