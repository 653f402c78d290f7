#include "kernels/cpu_features.hpp"

#include <cpuid.h>

#include <atomic>

#include "core/blas_kernels.hpp"

namespace slmtune::kernels {
namespace {

bool detect_avx2() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
  // clang 14's __builtin_cpu_supports does not know "f16c": ask CPUID leaf 1 directly (ECX bit 29).
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & (1u << 29)) != 0;
}

std::atomic<bool> avx2_enabled{true};
std::atomic<bool> avx512_enabled{true};

}  // namespace

bool cpu_has_avx2() {
  static const bool has = detect_avx2();
  return has;
}

// One reading of AVX-512 for the whole program: the one that also picks OpenBLAS' kernels.
bool cpu_has_avx512() { return cpu_has_avx2() && cpu_level().avx512; }

bool use_avx512() { return use_avx2() && avx512_enabled.load(std::memory_order_relaxed) && cpu_has_avx512(); }

bool use_avx2() { return avx2_enabled.load(std::memory_order_relaxed) && cpu_has_avx2(); }

void set_avx2_enabled(bool enabled) { avx2_enabled.store(enabled, std::memory_order_relaxed); }

void set_avx512_enabled(bool enabled) { avx512_enabled.store(enabled, std::memory_order_relaxed); }

}  // namespace slmtune::kernels
