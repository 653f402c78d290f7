#pragma once
// Shared by the kernel tests: seeded random data, conversions between the f32 kernels and the double
// references, central finite differences, and elementwise comparison that reports the worst element.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.hpp"

namespace slmtune::kernels::testing {

inline std::vector<double> random_doubles(size_t count, uint32_t seed, double low = -1.0, double high = 1.0) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  std::vector<double> values(count);
  for (double& v : values) v = distribution(generator);
  return values;
}

// f32 copies of double data, so the f32 kernel and the double reference see the same inputs.
inline std::vector<float> to_float(const std::vector<double>& values) {
  return std::vector<float>(values.begin(), values.end());
}
inline std::vector<double> to_double(const std::vector<float>& values) {
  return std::vector<double>(values.begin(), values.end());
}
// Rounds double data to what f32 can hold, so double references start from the f32 kernels' inputs.
inline std::vector<double> f32_exact(std::vector<double> values) {
  for (double& v : values) v = static_cast<double>(static_cast<float>(v));
  return values;
}

// Checks `analytic` (d loss / d x) against central differences of `loss`, perturbing x in place.
// In double with step 1e-6, truncation and rounding errors stay near 1e-9, far below the tolerance.
inline void expect_gradient(std::vector<double>& x, const std::function<double()>& loss,
                            const std::vector<double>& analytic, const std::string& name, double tolerance = 1e-6) {
  ASSERT_EQ(x.size(), analytic.size()) << name;
  const double step = 1e-6;
  double worst = 0.0;
  size_t worst_index = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + step;
    const double up = loss();
    x[i] = saved - step;
    const double down = loss();
    x[i] = saved;
    const double numeric = (up - down) / (2 * step);
    const double error = std::abs(numeric - analytic[i]) / std::max(1.0, std::abs(numeric));
    if (error > worst) worst = error, worst_index = i;
  }
  EXPECT_LT(worst, tolerance) << name << ": worst relative error at element " << worst_index << " (analytic "
                              << analytic[worst_index] << ")";
}

// Σ out·weights: a scalar loss whose gradient with respect to out is `weights`.
inline double weighted_sum(const std::vector<double>& out, const std::vector<double>& weights) {
  double sum = 0;
  for (size_t i = 0; i < out.size(); ++i) sum += out[i] * weights[i];
  return sum;
}

// |got − want| ≤ atol + rtol·|want| everywhere; reports the worst element.
template <class Got>
void expect_close(const Got* got, const double* want, size_t count, double atol, double rtol,
                  const std::string& name) {
  double worst = -1.0;
  size_t worst_index = 0;
  for (size_t i = 0; i < count; ++i) {
    const double excess = std::abs(static_cast<double>(got[i]) - want[i]) - (atol + rtol * std::abs(want[i]));
    if (!(excess <= worst)) worst = std::isnan(excess) ? 1e300 : excess, worst_index = i;
  }
  EXPECT_LE(worst, 0.0) << name << ": element " << worst_index << " is " << static_cast<double>(got[worst_index])
                        << ", expected " << want[worst_index];
}
template <class Got>
void expect_close(const std::vector<Got>& got, const std::vector<double>& want, double atol, double rtol,
                  const std::string& name) {
  ASSERT_EQ(got.size(), want.size()) << name;
  expect_close(got.data(), want.data(), got.size(), atol, rtol, name);
}

// Runs a check on each vector path the CPU has (AVX-512, then AVX2 with AVX-512 switched off) and
// once on the portable path.
inline void for_each_path(const std::function<void(const std::string&)>& check) {
  set_avx2_enabled(true);  // whatever a failed check before left switched off
  set_avx512_enabled(true);
  if (cpu_has_avx512()) check("avx512");
  if (cpu_has_avx2()) {
    set_avx512_enabled(false);
    check("avx2");
    set_avx512_enabled(true);
  }
  set_avx2_enabled(false);
  check("portable");
  set_avx2_enabled(true);
}

}  // namespace slmtune::kernels::testing
