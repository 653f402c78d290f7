#pragma once
// Shared by the model tests: comparison that reports the worst element, the golden models, and batch helpers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "model/transformer.hpp"
#include "support/random_batch.hpp"
#include "support/test_support.hpp"

namespace slmtune::model_testing {

// A tiny model written by tests/golden/make_goldens.py (PyTorch reference outputs beside it).
inline std::filesystem::path golden(const std::string& name) { return slmtune::testing::source_dir() / "tests/golden" / name; }

using slmtune::testing::random_batch;

struct Deviation {
  double max_abs = 0.0;  // worst |got − want|
  double max_rel = 0.0;  // worst |got − want| / max(|want|, 1e-3·max|want|)
  double scale = 0.0;    // max |want|
};

inline Deviation deviation(std::span<const float> got, std::span<const float> want) {
  Deviation d;
  for (float w : want) d.scale = std::max(d.scale, static_cast<double>(std::fabs(w)));
  const double floor = std::max(1e-3 * d.scale, 1e-30);
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!std::isfinite(diff)) return {INFINITY, INFINITY, d.scale};
    d.max_abs = std::max(d.max_abs, diff);
    d.max_rel = std::max(d.max_rel, diff / std::max(std::fabs(static_cast<double>(want[i])), floor));
  }
  return d;
}

// f32 tolerance: worst error within `relative` of the data's scale (1e-4: ~1000 ulp of f32 after a
// few layers of accumulated rounding, far below any real mistake, which shows at the 1e-1 level).
inline Deviation expect_close(std::span<const float> got, std::span<const float> want, const std::string& name,
                              double relative = 1e-4) {
  EXPECT_EQ(got.size(), want.size()) << name;
  const Deviation d = deviation(got, want);
  EXPECT_LE(d.max_abs, relative * d.scale + 1e-7)
      << name << ": max abs error " << d.max_abs << " (max rel " << d.max_rel << ", scale " << d.scale << ")";
  return d;
}

}  // namespace slmtune::model_testing
