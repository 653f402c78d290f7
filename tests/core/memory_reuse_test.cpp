#include "core/memory_reuse.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

using namespace slmtune;

// AddressSanitizer replaces malloc, so glibc's policy does not apply. GCC says so with
// __SANITIZE_ADDRESS__, Clang (the sanitizer build's compiler) with __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define SLMTUNE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLMTUNE_UNDER_ASAN 1
#endif
#endif

namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Allocates `bytes`, writes every byte, frees it; returns the page faults that cost. The empty asm
// statement tells the compiler the block is used, so the allocation cannot be optimised away.
long faults_of_one_use(size_t bytes) {
  const long before = minor_faults();
  char* block = static_cast<char*>(std::malloc(bytes));
  if (!block) return -1;
  std::memset(block, 1, bytes);
  asm volatile("" : : "r"(block) : "memory");
  std::free(block);
  return minor_faults() - before;
}

}  // namespace

// The second use of a block of the same size finds its pages mapped: glibc's default would map and
// unmap a 48 MiB block each time (over its largest mmap threshold, 32 MiB), faulting in all 12 288
// pages of 4 KiB again.
TEST(MemoryReuse, ARepeatedLargeAllocationReusesMappedPages) {
#if defined(SLMTUNE_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer replaces malloc; the policy is glibc's";
#else
  ASSERT_TRUE(keep_freed_memory_for_reuse());
  const size_t bytes = size_t{48} << 20;
  const long pages = static_cast<long>(bytes / static_cast<size_t>(sysconf(_SC_PAGESIZE)));
  const long first = faults_of_one_use(bytes);
  ASSERT_GE(first, 0);
  for (int use = 0; use < 3; ++use) {
    const long again = faults_of_one_use(bytes);
    ASSERT_GE(again, 0);
    EXPECT_LT(again, pages / 16) << "use " << use << " faulted " << again << " of " << pages << " pages";
  }
#endif
}
