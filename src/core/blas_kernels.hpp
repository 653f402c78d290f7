#pragma once
// Which kernels OpenBLAS runs. OpenBLAS (built with DYNAMIC_ARCH, as Debian ships it) picks one kernel
// set when it loads, from a table of the CPU models it knows. Debian 12's OpenBLAS 0.3.21 does not
// know CPUs newer than itself (Intel's Emerald Rapids, family 6 model 207, for one) and falls back to
// its "Prescott" kernels: SSE3, with no FMA, AVX2 or AVX-512. Every matrix product of training and of
// prompt processing goes through OpenBLAS, and on such a CPU they ran 3.4–5× slower than with the
// kernels the CPU can run (bench/README.md). OpenBLAS reads OPENBLAS_CORETYPE only while it loads,
// before main(), so the one way to correct the choice from inside the program is to set that variable
// and run the program again: match_blas_kernels_to_cpu does that, once, before anything else happens.
#include <string>
#include <string_view>

namespace slmtune {

// What the CPU (and the operating system, which must save the wider registers) allows.
struct CpuLevel {
  bool avx2_fma = false;  // AVX2 and FMA: OpenBLAS' Haswell kernels
  bool avx512 = false;    // AVX-512 F, CD, BW, DQ and VL: its SkylakeX kernels
};
CpuLevel cpu_level();

// The kernel set to ask OpenBLAS for when it chose `selected` (a name as openblas_get_corename()
// gives it) on a CPU of `level`: "SkylakeX" or "Haswell" when `selected` is one of the sets made for
// CPUs without AVX2, empty otherwise (a set OpenBLAS chose knowingly, or one this table does not know,
// is left alone).
std::string_view better_blas_core(std::string_view selected, CpuLevel level);

// The kernel set OpenBLAS is running, e.g. "SkylakeX"; empty when the BLAS is not OpenBLAS.
std::string blas_core();

// A line for --version and -v: the kernel set in use, and what OpenBLAS had chosen when slmtune
// asked for another.
std::string blas_kernels_summary();

// Call first thing in main(). When the user has not set OPENBLAS_CORETYPE and better_blas_core()
// names a better set, sets the variable and replaces the process with a new run of the same program
// and arguments (it does not return). Anything that stops that (no /proc/self/exe, say) leaves the
// program running on the kernels it has, with one warning line.
void match_blas_kernels_to_cpu(char** argv);

}  // namespace slmtune
