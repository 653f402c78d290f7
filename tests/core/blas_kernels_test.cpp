// Which OpenBLAS kernel sets slmtune replaces, on which CPUs. The sets are OpenBLAS' own names
// (driver/others/dynamic.c); the instruction sets each needs are those of the CPUs they are named for.
#include <gtest/gtest.h>

#include "core/blas_kernels.hpp"

using slmtune::better_blas_core;
using slmtune::CpuLevel;

namespace {

constexpr CpuLevel kNoAvx2{false, false};
constexpr CpuLevel kAvx2{true, false};
constexpr CpuLevel kAvx512{true, true};

TEST(BlasKernels, SetsForCpusWithoutAvx2AreReplacedByTheBestTheCpuRuns) {
  // Prescott is what OpenBLAS 0.3.21 falls back to on a CPU it does not know (Emerald Rapids).
  for (const char* old : {"Prescott", "Core2", "Nehalem", "Sandybridge", "Atom", "Unknown", "Bulldozer",
                          "Piledriver", "Steamroller", "Barcelona"}) {
    EXPECT_EQ(better_blas_core(old, kAvx512), "SkylakeX") << old;
    EXPECT_EQ(better_blas_core(old, kAvx2), "Haswell") << old;
    EXPECT_EQ(better_blas_core(old, kNoAvx2), "") << old << ": the CPU has nothing better to run";
  }
}

TEST(BlasKernels, SetsMadeForAvx2OrLaterAreLeftAlone) {
  // OpenBLAS chose these knowingly, e.g. Haswell on an AVX-512 CPU whose OS does not save the registers.
  for (const char* current : {"Haswell", "Zen", "Excavator", "SkylakeX", "Cooperlake", "SapphireRapids"}) {
    EXPECT_EQ(better_blas_core(current, kAvx512), "") << current;
    EXPECT_EQ(better_blas_core(current, kAvx2), "") << current;
  }
  // A name from an OpenBLAS newer than this table, or no OpenBLAS at all.
  EXPECT_EQ(better_blas_core("GraniteRapids", kAvx512), "");
  EXPECT_EQ(better_blas_core("", kAvx512), "");
}

TEST(BlasKernels, ThisCpuIsReadConsistently) {
  const CpuLevel level = slmtune::cpu_level();
  if (level.avx512) {
    EXPECT_TRUE(level.avx2_fma) << "AVX-512 without AVX2 and FMA";
  }
  EXPECT_FALSE(slmtune::blas_core().empty()) << "the program links OpenBLAS, which names its kernels";
}

}  // namespace
