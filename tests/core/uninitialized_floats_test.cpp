#include "core/uninitialized_floats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

using namespace slmtune;

// Only resize() without a value skips initialisation; every way of giving values still gives them.
TEST(UninitializedFloats, ValuesGivenAreKept) {
  UninitializedFloats filled(1000, 0.0f);
  EXPECT_EQ(std::count(filled.begin(), filled.end(), 0.0f), 1000);
  filled.assign(3, 2.5f);
  EXPECT_EQ(filled, (UninitializedFloats{2.5f, 2.5f, 2.5f}));
  filled.resize(5, -1.0f);
  EXPECT_EQ(filled[3], -1.0f);
  EXPECT_EQ(filled[4], -1.0f);
  filled.push_back(7.0f);
  const UninitializedFloats copy = filled;
  EXPECT_EQ(copy, filled);
  UninitializedFloats sized;
  sized.resize(4096);  // unset: written before it is read, as the activation buffers are
  std::iota(sized.begin(), sized.end(), 0.0f);
  EXPECT_EQ(sized[4095], 4095.0f);
}
