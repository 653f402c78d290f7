// LoRA, rsLoRA, DoRA and QLoRA layers against double-precision references written from the papers'
// formulas, and their gradients against central finite differences of those references (DoRA with
// the row norm held constant, as the paper and PEFT's detach do).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <algorithm>
#include <functional>
#include <string>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "kernels/cpu_features.hpp"
#include "peft/dora.hpp"
#include "peft/lora.hpp"
#include "peft/lora_avx512.hpp"
#include "quant/nf4.hpp"
#include "quant/nf4_linear.hpp"

using namespace slmtune;
using namespace slmtune::peft;

namespace {

constexpr int64_t kIn = 20, kOut = 12, kRank = 4, kRows = 3;

std::vector<double> random_doubles(size_t count, uint32_t seed, double scale = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(count);
  for (double& x : v) x = normal(rng);
  return v;
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }
std::vector<double> to_double(std::span<const float> v) { return {v.begin(), v.end()}; }

LoraConfig config_for(bool rslora, bool dora) {
  LoraConfig c;
  c.r = kRank;
  c.lora_alpha = 6.0;
  c.use_rslora = rslora;
  c.use_dora = dora;
  c.target_modules = {"q_proj"};
  c.init_lora_weights = LoraInit::Zero;  // B random too, so every gradient path is non-trivial
  return c;
}

// Everything a reference forward reads, in double.
struct Params {
  std::vector<double> x, w, a, b, m, frozen_norm;
  double s = 0.0;
};

std::vector<double> matmul_t(const std::vector<double>& x, const std::vector<double>& w, int64_t n, int64_t in,
                             int64_t out) {  // x[n,in]·w[out,in]ᵀ
  std::vector<double> y(static_cast<size_t>(n * out), 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t k = 0; k < in; ++k) y[t * out + o] += x[t * in + k] * w[o * in + k];
  return y;
}

// The adapter's contribution only (what the hook adds to the base output).
std::vector<double> lora_reference(const Params& p) {
  const auto h = matmul_t(p.x, p.a, kRows, kIn, kRank);
  auto v = matmul_t(h, p.b, kRows, kRank, kOut);
  for (double& e : v) e *= p.s;
  return v;
}

std::vector<double> row_norms(const Params& p) {
  std::vector<double> n(kOut);
  for (int64_t o = 0; o < kOut; ++o) {
    double sum = 0.0;
    for (int64_t k = 0; k < kIn; ++k) {
      double ba = 0.0;
      for (int64_t j = 0; j < kRank; ++j) ba += p.b[o * kRank + j] * p.a[j * kIn + k];
      const double e = p.w[o * kIn + k] + p.s * ba;
      sum += e * e;
    }
    n[o] = std::sqrt(sum);
  }
  return n;
}

// DoRA's contribution: m/N ⊙ (x·(W + sBA)ᵀ) − x·Wᵀ with N = frozen_norm (constant).
std::vector<double> dora_reference(const Params& p) {
  const auto base = matmul_t(p.x, p.w, kRows, kIn, kOut);
  const auto lora = lora_reference(p);
  std::vector<double> y(base.size());
  for (int64_t t = 0; t < kRows; ++t)
    for (int64_t o = 0; o < kOut; ++o) {
      const size_t e = static_cast<size_t>(t * kOut + o);
      y[e] = p.m[o] / p.frozen_norm[o] * (base[e] + lora[e]) - base[e];
    }
  return y;
}

// Σ c ⊙ f(p): its gradient with respect to f's output is c.
double weighted(const std::vector<double>& y, const std::vector<double>& c) {
  double sum = 0.0;
  for (size_t i = 0; i < y.size(); ++i) sum += y[i] * c[i];
  return sum;
}

// Central differences of Σ c ⊙ f(p) with respect to every element of *field.
std::vector<double> finite_difference(Params p, std::vector<double> Params::*field,
                                      const std::function<std::vector<double>(const Params&)>& f,
                                      const std::vector<double>& c) {
  std::vector<double> grad((p.*field).size());
  const double h = 1e-6;
  for (size_t i = 0; i < grad.size(); ++i) {
    const double keep = (p.*field)[i];
    (p.*field)[i] = keep + h;
    const double up = weighted(f(p), c);
    (p.*field)[i] = keep - h;
    const double down = weighted(f(p), c);
    (p.*field)[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

void expect_gradient(std::span<const float> got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  ASSERT_GT(scale, 1e-3) << what << ": a vanishing reference gradient tests nothing";
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-5 * scale + 1e-6) << what << " [" << i << "]";
}

Params params_of(LoraAdapter& adapter, const std::vector<double>& x, const std::vector<double>& w) {
  Params p;
  p.x = x;
  p.w = w;
  p.a = to_double(adapter.lora_A());
  p.b = to_double(adapter.lora_B());
  p.s = adapter.scaling();
  return p;
}

void check_lora(bool rslora) {
  const LoraConfig config = config_for(rslora, false);
  LoraAdapter adapter(kIn, kOut, config, 7);
  EXPECT_FLOAT_EQ(adapter.scaling(), rslora ? 6.0f / 2.0f : 6.0f / 4.0f);
  const auto x = random_doubles(kRows * kIn, 1);
  const auto c = random_doubles(kRows * kOut, 2);
  const Params p = params_of(adapter, x, {});

  std::vector<float> y(kRows * kOut, 0.0f);
  const auto xf = to_float(x);
  adapter.forward(y.data(), xf.data(), kRows);
  const auto want = lora_reference(p);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-5 * (1 + std::fabs(want[i])));

  std::vector<float> dx(kRows * kIn, 0.0f);
  const auto cf = to_float(c);
  adapter.backward(dx.data(), cf.data(), xf.data(), kRows);
  expect_gradient(adapter.grad_A(), finite_difference(p, &Params::a, lora_reference, c), "dA");
  expect_gradient(adapter.grad_B(), finite_difference(p, &Params::b, lora_reference, c), "dB");
  expect_gradient(dx, finite_difference(p, &Params::x, lora_reference, c), "dx");
}

}  // namespace

TEST(LoraLayer, GradientsMatchFiniteDifferences) { check_lora(false); }
TEST(LoraLayer, RsLoraScalesByAlphaOverSqrtRank) { check_lora(true); }

TEST(LoraLayer, DefaultInitIsKaimingUniformAndZeroB) {
  LoraConfig config = config_for(false, false);
  config.init_lora_weights = LoraInit::Default;
  config.r = 16;
  const int64_t in = 256;
  LoraAdapter adapter(in, 64, config, 3);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  double sum_sq = 0.0;
  float max_abs = 0.0f;
  for (float v : adapter.lora_A()) {
    max_abs = std::max(max_abs, std::fabs(v));
    sum_sq += static_cast<double>(v) * v;
  }
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.95 * bound);
  // U(−b, b) has variance b²/3.
  EXPECT_NEAR(sum_sq / static_cast<double>(adapter.lora_A().size()), bound * bound / 3.0, 0.05 * bound * bound / 3.0);
  for (float v : adapter.lora_B()) EXPECT_EQ(v, 0.0f);
  // Step 0: the layer adds exactly nothing.
  const auto x = to_float(random_doubles(2 * in, 4));
  std::vector<float> y(2 * 64, 1.25f);
  adapter.forward(y.data(), x.data(), 2);
  for (float v : y) EXPECT_EQ(v, 1.25f);
}

TEST(LoraLayer, DropoutMaskIsSeededAndSharedByForwardAndBackward) {
  LoraConfig config = config_for(false, false);
  config.lora_dropout = 0.3;
  LoraAdapter adapter(kIn, kOut, config, 9);
  adapter.set_step(5);
  const auto x = to_float(random_doubles(kRows * kIn, 1));
  const auto c = to_float(random_doubles(kRows * kOut, 2));
  auto run = [&](const std::vector<float>& input) {
    std::vector<float> y(kRows * kOut, 0.0f);
    adapter.forward(y.data(), input.data(), kRows);
    return y;
  };
  const auto y1 = run(x);
  EXPECT_EQ(run(x), y1);  // a recompute sees the same mask
  adapter.set_step(6);
  EXPECT_NE(run(x), y1);  // the next micro-batch draws a new one
  adapter.set_training(false);
  std::vector<float> y_eval = run(x);
  adapter.set_training(true);
  adapter.set_step(5);
  // The layer is linear in x, so central differences are exact up to f32 rounding: they check that
  // backward applies the mask forward used.
  std::vector<float> dx(kRows * kIn, 0.0f);
  adapter.backward(dx.data(), c.data(), x.data(), kRows);
  int zeros = 0;
  for (int64_t i = 0; i < kRows * kIn; ++i) {
    auto up = x, down = x;
    up[i] += 0.5f;
    down[i] -= 0.5f;
    const auto yu = run(up), yd = run(down);
    double fd = 0.0;
    for (size_t k = 0; k < yu.size(); ++k) fd += (static_cast<double>(yu[k]) - yd[k]) * c[k];
    EXPECT_NEAR(dx[i], fd, 1e-4 * (1 + std::fabs(fd))) << i;
    if (dx[i] == 0.0f) ++zeros;
  }
  EXPECT_GT(zeros, 0);               // some inputs dropped…
  EXPECT_LT(zeros, kRows * kIn / 2); // …about 30 %
  EXPECT_NE(y_eval, y1);             // evaluation uses no dropout
}

// What one adapter produces for one forward and backward: y, dx (both added onto given values), dA, dB.
struct LayerResult {
  std::vector<float> y, dx, grad_a, grad_b;
};

LayerResult run_layer(LoraAdapter& adapter, const std::vector<float>& x, const std::vector<float>& dy, int64_t rows,
                      bool vector_path) {
  kernels::set_avx2_enabled(vector_path);
  adapter.zero_gradients();
  LayerResult r;
  r.y.assign(static_cast<size_t>(rows * adapter.out_features()), 0.25f);
  // Some gradients start at −0, which a dropped element must leave as it is.
  r.dx.assign(static_cast<size_t>(rows * adapter.in_features()), 0.5f);
  for (size_t e = 0; e < r.dx.size(); e += 7) r.dx[e] = -0.0f;
  adapter.forward(r.y.data(), x.data(), rows);
  adapter.backward(r.dx.data(), dy.data(), x.data(), rows);
  kernels::set_avx2_enabled(true);
  r.grad_a.assign(adapter.grad_A().begin(), adapter.grad_A().end());
  r.grad_b.assign(adapter.grad_B().begin(), adapter.grad_B().end());
  return r;
}

// |a − b| ≤ tolerance · (1 + largest |b|) element by element: the two paths sum in different orders.
void expect_close(const std::vector<float>& a, const std::vector<float>& b, double tolerance, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double largest = 0.0;
  for (float v : b) largest = std::max(largest, static_cast<double>(std::fabs(v)));
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::fabs(static_cast<double>(a[i]) - b[i]) > tolerance * (1.0 + largest) && bad++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: " << a[i] << " against " << b[i];
  EXPECT_EQ(bad, 0u) << what;
}

TEST(LoraLayer, VectorPathMatchesThePortableOneAndDrawsTheSameMask) {
  // The AVX-512 path (row blocks, fused dropout; lora_avx512.hpp) against the portable one (sgemm, a
  // scalar mask loop) on shapes with every kind of tail: ranks below, at and above one vector (16),
  // widths that are not multiples of 16, row counts below one group of 8, and enough rows for several
  // blocks on each of two threads. Both apply the mask to the same elements: a dropped input's
  // gradient is left bit for bit as it was, on both paths alike.
  if (!kernels::cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU: only the portable path runs";
  struct Case {
    int64_t in, out, r, rows;
    double p;
  };
  const Case cases[] = {{1000, 24, 4, 77, 0.3}, {1000, 24, 4, 77, 0.05}, {37, 100, 1, 5, 0.0},
                        {37, 100, 20, 300, 0.1}, {100, 37, 16, 1, 0.5}, {576, 192, 16, 1100, 0.05},
                        {1536, 40, 40, 130, 0.0}, {64, 64, 8, 8, 0.2}};
  for (const Case& c : cases) {
    const std::string name = "in " + std::to_string(c.in) + " out " + std::to_string(c.out) + " r " +
                             std::to_string(c.r) + " rows " + std::to_string(c.rows) + " p " + std::to_string(c.p);
    LoraConfig config = config_for(false, false);
    config.r = c.r;
    config.lora_dropout = c.p;
    LoraAdapter adapter(c.in, c.out, config, 13);
    adapter.set_step(3);
    const auto x = to_float(random_doubles(static_cast<size_t>(c.rows * c.in), 21));
    const auto dy = to_float(random_doubles(static_cast<size_t>(c.rows * c.out), 22));
    const LayerResult portable = run_layer(adapter, x, dy, c.rows, false);
    const LayerResult vector = run_layer(adapter, x, dy, c.rows, true);
    expect_close(vector.y, portable.y, 1e-5, name + " y");
    expect_close(vector.dx, portable.dx, 1e-5, name + " dx");
    expect_close(vector.grad_a, portable.grad_a, 1e-5, name + " dA");
    expect_close(vector.grad_b, portable.grad_b, 1e-5, name + " dB");
    // The same elements dropped: those whose gradient is still exactly its start value.
    int64_t kept = 0, differ = 0;
    for (size_t e = 0; e < x.size(); ++e) {
      const float start = e % 7 == 0 ? -0.0f : 0.5f;
      const bool untouched_vector = std::memcmp(&vector.dx[e], &start, sizeof(float)) == 0;
      const bool untouched_portable = std::memcmp(&portable.dx[e], &start, sizeof(float)) == 0;
      differ += untouched_vector != untouched_portable;
      kept += !untouched_portable;
    }
    EXPECT_EQ(differ, 0) << name;
    if (c.rows * c.in >= 10000) {
      EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(x.size()), 1.0 - c.p, 0.01) << name;
    }
  }
}

TEST(LoraLayer, DropoutDrawIsTheSameInVectorAndPortableCode) {
  // The mask's vector draw (keep16, eight 64-bit lanes twice) against DropoutMask::keep, element by
  // element, for p = 0.3 and 0.05 and element indices past 2³².
  if (!kernels::cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  for (float p : {0.3f, 0.05f}) {
    const DropoutMask mask(77, 5, p);
    for (uint64_t start : {uint64_t{0}, uint64_t{123456789}, (uint64_t{1} << 32) - 5}) {
      std::vector<float> x(4099), out(x.size());
      for (size_t i = 0; i < x.size(); ++i) x[i] = 1.0f + static_cast<float>(i);
      avx512::drop(out.data(), x.data(), static_cast<int64_t>(x.size()), mask, 2.0f, start);
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(out[i], mask.keep(start + i) ? x[i] * 2.0f : 0.0f) << "p " << p << " element " << start + i;
    }
  }
}

TEST(LoraLayer, DropoutDrawsLookIndependent) {
  // Over 2²⁰ elements at p = 0.3: the kept fraction is 0.7, and an element's decision tells nothing
  // about its neighbour's, about the same element in the next step, or in another adapter (each
  // pair kept together 0.49 of the time). A binomial's standard deviation here is ~0.0005.
  const float p = 0.3f;
  const DropoutMask step5(77, 5, p), step6(77, 6, p), other(78, 5, p);
  const uint64_t count = uint64_t{1} << 20;
  double kept = 0, neighbours = 0, steps = 0, adapters = 0;
  for (uint64_t e = 0; e < count; ++e) {
    const bool k = step5.keep(e);
    kept += k;
    neighbours += k && step5.keep(e + 1);
    steps += k && step6.keep(e);
    adapters += k && other.keep(e);
  }
  const double n = static_cast<double>(count);
  EXPECT_NEAR(kept / n, 0.7, 0.003);
  EXPECT_NEAR(neighbours / n, 0.49, 0.003);
  EXPECT_NEAR(steps / n, 0.49, 0.003);
  EXPECT_NEAR(adapters / n, 0.49, 0.003);
}

TEST(DoraLayer, GradientsMatchFiniteDifferencesWithTheNormConstant) {
  const auto w = random_doubles(kOut * kIn, 11, 0.3);
  auto shared_w = std::make_shared<std::vector<float>>(to_float(w));
  DoraAdapter adapter(base_weight(shared_w, kOut, kIn), config_for(false, true), 7);
  // Start away from m = ‖W + sBA‖ so the (g − 1)·x·Wᵀ path is live.
  for (size_t o = 0; o < kOut; ++o) adapter.magnitude()[o] *= 1.0f + 0.1f * static_cast<float>(o);
  const auto x = random_doubles(kRows * kIn, 1);
  const auto c = random_doubles(kRows * kOut, 2);
  Params p = params_of(adapter, x, to_double(*shared_w));
  p.m = to_double(adapter.magnitude());
  p.frozen_norm = row_norms(p);
  const auto norms = adapter.weight_norm();
  for (int64_t o = 0; o < kOut; ++o) EXPECT_NEAR(norms[o], p.frozen_norm[o], 1e-5 * p.frozen_norm[o]);

  std::vector<float> y(kRows * kOut, 0.0f);
  const auto xf = to_float(x);
  adapter.forward(y.data(), xf.data(), kRows);
  const auto want = dora_reference(p);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-5 * (1 + std::fabs(want[i])));

  std::vector<float> dx(kRows * kIn, 0.0f);
  const auto cf = to_float(c);
  adapter.backward(dx.data(), cf.data(), xf.data(), kRows);
  expect_gradient(adapter.grad_A(), finite_difference(p, &Params::a, dora_reference, c), "dA");
  expect_gradient(adapter.grad_B(), finite_difference(p, &Params::b, dora_reference, c), "dB");
  expect_gradient(adapter.grad_magnitude(), finite_difference(p, &Params::m, dora_reference, c), "dm");
  expect_gradient(dx, finite_difference(p, &Params::x, dora_reference, c), "dx");
}

TEST(DoraLayer, MagnitudeStartsAtTheRowNormsSoStepZeroIsTheBase) {
  const auto w = to_float(random_doubles(kOut * kIn, 12, 0.3));
  auto shared_w = std::make_shared<std::vector<float>>(w);
  LoraConfig config = config_for(false, true);
  config.init_lora_weights = LoraInit::Default;
  DoraAdapter adapter(base_weight(shared_w, kOut, kIn), config, 1);
  for (int64_t o = 0; o < kOut; ++o) {
    double sum = 0.0;
    for (int64_t k = 0; k < kIn; ++k) sum += static_cast<double>(w[o * kIn + k]) * w[o * kIn + k];
    EXPECT_NEAR(adapter.magnitude()[o], std::sqrt(sum), 1e-6 * std::sqrt(sum));
  }
  const auto x = to_float(random_doubles(kRows * kIn, 4));
  std::vector<float> y(kRows * kOut, 0.5f);
  adapter.forward(y.data(), x.data(), kRows);
  for (float v : y) EXPECT_EQ(v, 0.5f);
}

TEST(MergedLayer, LoraAndDoraMergedEqualUnmergedAndUnmergeRestores) {
  for (bool dora : {false, true}) {
    const auto w = to_float(random_doubles(kOut * kIn, 13, 0.3));
    auto shared_w = std::make_shared<std::vector<float>>(w);
    std::unique_ptr<LoraAdapter> adapter;
    if (dora) {
      auto d = std::make_unique<DoraAdapter>(base_weight(shared_w, kOut, kIn), config_for(false, true), 2);
      for (float& m : d->magnitude()) m *= 1.3f;
      adapter = std::move(d);
    } else {
      adapter = std::make_unique<LoraAdapter>(kIn, kOut, config_for(false, false), 2);
    }
    const auto x = to_float(random_doubles(kRows * kIn, 5));
    const auto base_y = to_float(matmul_t(to_double(x), to_double(w), kRows, kIn, kOut));
    std::vector<float> unmerged = base_y;
    adapter->forward(unmerged.data(), x.data(), kRows);
    std::vector<float> merged_w = w;
    adapter->merge_into(merged_w);
    const auto merged = matmul_t(to_double(x), to_double(merged_w), kRows, kIn, kOut);
    for (size_t i = 0; i < merged.size(); ++i) EXPECT_NEAR(unmerged[i], merged[i], 1e-5 * (1 + std::fabs(merged[i]))) << dora;
    adapter->unmerge_from(merged_w);
    for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(merged_w[i], w[i], 1e-6) << dora;
  }
}

TEST(QLoraLayer, Nf4BaseWithLoraAndDoraMatchFiniteDifferences) {
  // The QLoRA layer: an NF4 base (double-quantized) with a LoRA or DoRA adapter on top. The reference
  // uses the de-quantized weight in double; inputs' gradient covers both the base and the adapter.
  const int64_t in = 64, out = 16;
  const auto w = to_float(random_doubles(out * in, 14, 0.05));
  auto nf4 = std::make_shared<quant::Nf4Tensor>(quant::Nf4Tensor::quantize(w.data(), {out, in}));
  const auto wq = to_double(nf4->dequantize());
  for (bool dora : {false, true}) {
    LoraConfig config = config_for(false, dora);
    std::unique_ptr<LoraAdapter> adapter;
    if (dora) adapter = std::make_unique<DoraAdapter>(base_weight(nf4), config, 3);
    else adapter = std::make_unique<LoraAdapter>(in, out, config, 3);
    const auto x = random_doubles(kRows * in, 6);
    const auto c = random_doubles(kRows * out, 7);
    const auto xf = to_float(x), cf = to_float(c);
    std::vector<float> y(kRows * out);
    quant::nf4_linear_forward(y.data(), xf.data(), *nf4, nullptr, kRows);
    adapter->forward(y.data(), xf.data(), kRows);
    std::vector<float> dx(kRows * in, 0.0f);
    quant::nf4_linear_backward_input(dx.data(), cf.data(), *nf4, kRows);
    adapter->backward(dx.data(), cf.data(), xf.data(), kRows);

    // Reference: base + adapter in double, the DoRA norm frozen at its value.
    std::vector<double> a = to_double(adapter->lora_A()), b = to_double(adapter->lora_B());
    std::vector<double> m = dora ? to_double(static_cast<DoraAdapter&>(*adapter).magnitude()) : std::vector<double>{};
    const double s = adapter->scaling();
    std::vector<double> norm(out);
    for (int64_t o = 0; o < out; ++o) {
      double sum = 0.0;
      for (int64_t k = 0; k < in; ++k) {
        double ba = 0.0;
        for (int64_t j = 0; j < kRank; ++j) ba += b[o * kRank + j] * a[j * in + k];
        sum += (wq[o * in + k] + s * ba) * (wq[o * in + k] + s * ba);
      }
      norm[o] = std::sqrt(sum);
    }
    auto layer = [&](const std::vector<double>& input) {
      const auto base = matmul_t(input, wq, kRows, in, out);
      const auto lora = matmul_t(matmul_t(input, a, kRows, in, kRank), b, kRows, kRank, out);
      std::vector<double> result(base.size());
      for (size_t e = 0; e < base.size(); ++e) {
        const size_t o = e % out;
        result[e] = dora ? m[o] / norm[o] * (base[e] + s * lora[e]) : base[e] + s * lora[e];
      }
      return result;
    };
    const auto want = layer(x);
    for (size_t e = 0; e < want.size(); ++e) EXPECT_NEAR(y[e], want[e], 1e-5 * (1 + std::fabs(want[e]))) << dora;
    std::vector<double> fd(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      auto up = x, down = x;
      up[i] += 1e-6;
      down[i] -= 1e-6;
      fd[i] = (weighted(layer(up), c) - weighted(layer(down), c)) / 2e-6;
    }
    expect_gradient(dx, fd, dora ? "QDoRA dx" : "QLoRA dx");
  }
}

TEST(LoraLayer, RankMustBePositive) {
  LoraConfig config = config_for(false, false);
  config.r = 0;
  try {
    LoraAdapter adapter(kIn, kOut, config, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("r must be a positive integer, got 0"), std::string::npos) << e.what();
  }
}

TEST(DoraLayer, TilesSplitAmongThreadsGiveTheMergedLayersGradients) {
  // in = 1024 makes tiles of 64 rows, so 200 rows are 4 tiles shared by 2 threads. With the norm
  // constant the adapted layer is x·W'ᵀ with W' the merged weight, so the adapter's share of dx is
  // c·(W' − W) and dm_o = Σ_t c[t,o]·(x·W'ᵀ)[t,o] / m_o.
  slmtune::set_threads(2);
  const int64_t in = 1024, out = 200, n = 4;
  const auto w = to_float(random_doubles(out * in, 21, 0.05));
  auto shared_w = std::make_shared<std::vector<float>>(w);
  DoraAdapter adapter(base_weight(shared_w, out, in), config_for(false, true), 5);
  for (float& m : adapter.magnitude()) m *= 1.2f;
  std::vector<float> merged = w;
  adapter.merge_into(merged);
  const auto x = random_doubles(n * in, 22);
  const auto c = random_doubles(n * out, 23);
  const auto xf = to_float(x), cf = to_float(c);
  const auto base_y = matmul_t(x, to_double(w), n, in, out);
  const auto merged_y = matmul_t(x, to_double(merged), n, in, out);
  std::vector<float> y(n * out, 0.0f);
  adapter.forward(y.data(), xf.data(), n);
  for (size_t e = 0; e < y.size(); ++e) EXPECT_NEAR(y[e], merged_y[e] - base_y[e], 1e-4 * (1 + std::fabs(merged_y[e])));
  std::vector<float> dx(n * in, 0.0f);
  adapter.backward(dx.data(), cf.data(), xf.data(), n);
  std::vector<double> want_dx(n * in, 0.0), want_dm(out, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t k = 0; k < in; ++k)
        want_dx[t * in + k] += c[t * out + o] * (static_cast<double>(merged[o * in + k]) - w[o * in + k]);
      want_dm[o] += c[t * out + o] * merged_y[t * out + o] / adapter.magnitude()[o];
    }
  expect_gradient(dx, want_dx, "dx (threaded tiles)");
  expect_gradient(adapter.grad_magnitude(), want_dm, "dm (threaded tiles)");
}

TEST(LoraLayer, RowsSplitAmongThreadsGiveTheAnalyticGradients) {
  // 300 rows with 2 threads: two chunks, dA and dB summed from per-chunk parts. Reference in double:
  // y = s·x·Aᵀ·Bᵀ, dB = s·cᵀ·(x·Aᵀ), dA = s·(c·B)ᵀ·x, dx = s·c·B·A.
  slmtune::set_threads(2);
  const int64_t n = 300;
  LoraAdapter adapter(kIn, kOut, config_for(false, false), 8);
  const auto x = random_doubles(n * kIn, 31);
  const auto c = random_doubles(n * kOut, 32);
  const auto xf = to_float(x), cf = to_float(c);
  const auto a = to_double(adapter.lora_A()), b = to_double(adapter.lora_B());
  const double s = adapter.scaling();
  const auto h = matmul_t(x, a, n, kIn, kRank);
  const auto want_y = matmul_t(h, b, n, kRank, kOut);
  std::vector<float> y(n * kOut, 0.0f);
  adapter.forward(y.data(), xf.data(), n);
  for (size_t e = 0; e < y.size(); ++e) EXPECT_NEAR(y[e], s * want_y[e], 1e-5 * (1 + std::fabs(s * want_y[e])));
  std::vector<float> dx(n * kIn, 0.0f);
  adapter.backward(dx.data(), cf.data(), xf.data(), n);
  std::vector<double> want_da(kRank * kIn, 0.0), want_db(kOut * kRank, 0.0), want_dx(n * kIn, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t j = 0; j < kRank; ++j) {
      double cb = 0.0;  // (c·B)[t, j]
      for (int64_t o = 0; o < kOut; ++o) {
        cb += c[t * kOut + o] * b[o * kRank + j];
        want_db[o * kRank + j] += s * c[t * kOut + o] * h[t * kRank + j];
      }
      for (int64_t k = 0; k < kIn; ++k) {
        want_da[j * kIn + k] += s * cb * x[t * kIn + k];
        want_dx[t * kIn + k] += s * cb * a[j * kIn + k];
      }
    }
  expect_gradient(adapter.grad_A(), want_da, "dA (threaded rows)");
  expect_gradient(adapter.grad_B(), want_db, "dB (threaded rows)");
  expect_gradient(dx, want_dx, "dx (threaded rows)");
}
