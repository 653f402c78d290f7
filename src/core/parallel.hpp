#pragma once
// One thread setting for the whole program: our OpenMP parallel-for and OpenBLAS (OpenMP flavour)
// share it, so a matmul inside a parallel region never multiplies the thread count.
#include <cstdint>
#include <functional>

namespace slmtune {

// n <= 0 means "all cores". Governs OpenMP and BLAS.
void set_threads(int n);
int threads();

// Calls body(begin, end) on disjoint chunks of [0, count), at least `grain` items each, in parallel.
void parallel_for(int64_t count, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

}  // namespace slmtune
