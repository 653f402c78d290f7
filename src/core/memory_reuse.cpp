#include "core/memory_reuse.hpp"

#include <malloc.h>

namespace slmtune {

bool keep_freed_memory_for_reuse() {
  // M_MMAP_MAX 0: no block gets its own mapping; the heap grows instead (with brk, or mmap'd extensions
  // where brk cannot grow). M_TRIM_THRESHOLD −1: the heap's free top is never returned. Setting either
  // also stops glibc's adaptive threshold, which would otherwise keep moving blocks between the two.
  const bool no_mappings = mallopt(M_MMAP_MAX, 0) == 1;
  const bool no_trimming = mallopt(M_TRIM_THRESHOLD, -1) == 1;
  return no_mappings && no_trimming;
}

}  // namespace slmtune
