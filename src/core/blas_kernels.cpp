#include "core/blas_kernels.hpp"

#include <cblas.h>  // OpenBLAS' own: declares openblas_get_corename
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/log.hpp"

namespace slmtune {
namespace {

// Set on the second run to what OpenBLAS had chosen on the first, for blas_kernels_summary().
constexpr const char* kChosenVariable = "SLMTUNE_OPENBLAS_CHOSE";

// OpenBLAS' kernel sets for CPUs without AVX2 (its dynamic.c names them so). Sandybridge has AVX but
// no FMA; Bulldozer, Piledriver and Steamroller have FMA but not AVX2.
constexpr std::array<std::string_view, 21> kPreAvx2Cores = {
    "Unknown",   "Katmai", "Coppermine",  "Northwood", "Prescott",  "Banias",     "Atom",
    "Core2",     "Penryn", "Dunnington",  "Nehalem",   "Athlon",    "Opteron",    "Opteron_SSE3",
    "Barcelona", "Nano",   "Sandybridge", "Bobcat",    "Bulldozer", "Piledriver", "Steamroller"};

}  // namespace

CpuLevel cpu_level() {
  static const CpuLevel level = [] {
    __builtin_cpu_init();
    CpuLevel read;
    read.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    // GCC's check includes the operating system's support for the registers (XCR0).
    read.avx512 = read.avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                  __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
    return read;
  }();
  return level;
}

std::string_view better_blas_core(std::string_view selected, CpuLevel level) {
  if (!level.avx2_fma || std::find(kPreAvx2Cores.begin(), kPreAvx2Cores.end(), selected) == kPreAvx2Cores.end())
    return {};
  return level.avx512 ? "SkylakeX" : "Haswell";
}

std::string blas_core() {
  const char* name = openblas_get_corename();
  return name ? std::string(name) : std::string();
}

std::string blas_kernels_summary() {
  std::string line = fmt::format("OpenBLAS kernels: {}", blas_core());
  if (const char* chosen = std::getenv(kChosenVariable); chosen && *chosen)
    line += fmt::format(" (OpenBLAS chose {} for this CPU; slmtune asked for the kernels the CPU runs)", chosen);
  return line;
}

void match_blas_kernels_to_cpu(char** argv) {
  if (const char* user = std::getenv("OPENBLAS_CORETYPE"); user && *user) return;  // the user's choice
  const std::string selected = blas_core();
  const std::string_view better = better_blas_core(selected, cpu_level());
  if (better.empty()) return;
  setenv("OPENBLAS_CORETYPE", std::string(better).c_str(), 1);
  setenv(kChosenVariable, selected.c_str(), 1);
  execv("/proc/self/exe", argv);
  // Still here: the new run could not start. Carry on with the kernels already loaded.
  const int error = errno;
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(kChosenVariable);
  log::warn("OpenBLAS runs its {} kernels on this CPU, and restarting with OPENBLAS_CORETYPE={} failed ({}); "
            "matrix products will be slower (set OPENBLAS_CORETYPE={} yourself)",
            selected, better, std::strerror(error), better);
}

}  // namespace slmtune
