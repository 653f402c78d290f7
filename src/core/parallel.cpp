#include "core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <thread>

extern "C" void openblas_set_num_threads(int);

namespace slmtune {
namespace {
int current_threads = 0;
}

void set_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  current_threads = n;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int threads() { return current_threads > 0 ? current_threads : omp_get_max_threads(); }

void parallel_for(int64_t count, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (count <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t max_chunks = (count + grain - 1) / grain;
  const int workers = static_cast<int>(std::min<int64_t>(threads(), max_chunks));
  if (workers <= 1 || omp_in_parallel()) {
    body(0, count);
    return;
  }
  const int64_t chunk = (count + workers - 1) / workers;
#pragma omp parallel for num_threads(workers) schedule(static)
  for (int w = 0; w < workers; ++w) {
    const int64_t begin = w * chunk;
    const int64_t end = std::min(count, begin + chunk);
    if (begin < end) body(begin, end);
  }
}

}  // namespace slmtune
