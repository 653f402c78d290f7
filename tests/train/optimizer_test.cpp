// Optimizers against torch.optim's update formulas written out by hand in double precision,
// bitsandbytes' dynamic map against values derived from create_dynamic_map's definition, and
// clip_grad_norm_ against a 3-4-5 triangle.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "core/atomic_file.hpp"
#include "support/test_support.hpp"
#include "train/dynamic_quant_map.hpp"
#include "train/optimizer.hpp"

using namespace slmtune::train;
using slmtune::testing::TempDir;

namespace {

// torch.optim.AdamW (amsgrad=False) for one element, in double.
struct AdamRef {
  double p, m = 0, v = 0;
  void step(double g, double lr, double b1, double b2, double eps, double wd, int t) {
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    p -= lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + eps);
  }
};

}  // namespace

TEST(AdamW, FirstStepByHand) {
  // Step 1: m̂ = g, v̂ = g², so p ← p(1 − lr·wd) − lr·g/(|g| + eps) = 0.999 − 0.1 = 0.899.
  std::vector<float> p{1.0f}, g{0.5f};
  OptimizerSettings s;
  s.weight_decay = 0.01f;
  Optimizer opt(s, {{"w", p, g}});
  opt.step(0.1f);
  EXPECT_NEAR(p[0], 0.899, 1e-6);
}

TEST(AdamW, MatchesTorchFormulasOverSteps) {
  std::vector<float> p{0.5f, -1.25f, 2.0f, 0.0f}, g(4), q{3.0f, -0.1f};
  std::vector<float> gq(2);
  OptimizerSettings s;
  s.beta1 = 0.8f;
  s.beta2 = 0.95f;
  s.eps = 1e-6f;
  s.weight_decay = 0.1f;
  Optimizer opt(s, {{"a", p, g}, {"b", q, gq}});
  std::vector<AdamRef> ref;
  for (float x : p) ref.push_back({x});
  for (float x : q) ref.push_back({x});
  for (int t = 1; t <= 20; ++t) {
    for (size_t i = 0; i < 4; ++i) g[i] = static_cast<float>(std::sin(t * 0.7 + static_cast<double>(i)));
    for (size_t i = 0; i < 2; ++i) gq[i] = static_cast<float>(0.3 * std::cos(t * 1.3 + static_cast<double>(i)));
    const double lr = 0.01 * (1 + t % 3);
    opt.step(static_cast<float>(lr));
    for (size_t i = 0; i < 6; ++i) {
      const double gi = i < 4 ? g[i] : gq[i - 4];
      ref[i].step(gi, lr, 0.8, 0.95, 1e-6, 0.1, t);
    }
  }
  for (size_t i = 0; i < 6; ++i) EXPECT_NEAR(i < 4 ? p[i] : q[i - 4], ref[i].p, 2e-5) << i;
  EXPECT_EQ(opt.steps_taken(), 20);
}

TEST(Sgd, MomentumAsTorch) {
  // torch.optim.SGD(momentum=0.9, weight_decay=0.1): d = g + wd·p; buf = d (step 1), μ·buf + d after.
  std::vector<float> p{1.0f}, g{2.0f};
  OptimizerSettings s;
  s.kind = OptimizerKind::sgd;
  s.weight_decay = 0.1f;
  Optimizer opt(s, {{"w", p, g}});
  opt.step(0.5f);  // d = 2.1, buf = 2.1, p = 1 − 1.05 = −0.05
  EXPECT_NEAR(p[0], -0.05, 1e-6);
  g[0] = -1.0f;
  opt.step(0.5f);  // d = −1 − 0.005 = −1.005, buf = 1.89 − 1.005 = 0.885, p = −0.05 − 0.4425 = −0.4925
  EXPECT_NEAR(p[0], -0.4925, 1e-6);
}

TEST(DynamicMap, LayoutOfBitsandbytesMap) {
  const auto& s = dynamic_quant_map(true);
  const auto& u = dynamic_quant_map(false);
  // Signed: 127 positive, 127 negative fractions, 0 and 1. The largest fraction is the last mean of
  // linspace(0.1, 1, 65): 1 − 0.9/128; the smallest magnitude 1e-6 · 0.55.
  EXPECT_FLOAT_EQ(s[0], -0.99296875f);
  EXPECT_FLOAT_EQ(s[254], 0.99296875f);
  EXPECT_FLOAT_EQ(s[255], 1.0f);
  EXPECT_FLOAT_EQ(s[127], 0.0f);
  EXPECT_FLOAT_EQ(s[128], 5.5e-7f);
  EXPECT_FLOAT_EQ(s[126], -5.5e-7f);
  // Unsigned: twice the fractions per decade, 254 of them, then 0 first and 1 last; its first decade
  // has linspace(0.1, 1, 3) → means 0.325 and 0.775.
  EXPECT_FLOAT_EQ(u[0], 0.0f);
  EXPECT_FLOAT_EQ(u[1], 3.25e-7f);
  EXPECT_FLOAT_EQ(u[2], 7.75e-7f);
  EXPECT_FLOAT_EQ(u[254], 1.0f - 0.9f / 256.0f);
  EXPECT_FLOAT_EQ(u[255], 1.0f);
  for (size_t i = 1; i < 256; ++i) {
    EXPECT_LT(s[i - 1], s[i]);
    EXPECT_LT(u[i - 1], u[i]);
  }
  EXPECT_EQ(quantize_nearest(s, 0.0f), 127);
  EXPECT_EQ(quantize_nearest(s, 2.0f), 255);
  EXPECT_EQ(quantize_nearest(s, 0.993f), 254);
}

TEST(AdamW8bit, TracksAdamWOnAQuadratic) {
  // f(x) = ½ Σ aᵢ (xᵢ − cᵢ)², 1000 parameters over 4 blocks, 300 steps of lr 0.01.
  const size_t n = 1000;
  std::vector<float> x32(n, 0.0f), x8(n, 0.0f), g32(n), g8(n), a(n), c(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = 0.5f + static_cast<float>(i % 7);
    c[i] = static_cast<float>(std::sin(static_cast<double>(i))) * 2.0f;
  }
  OptimizerSettings s;
  s.weight_decay = 0.0f;
  Optimizer full(s, {{"x", x32, g32}});
  s.kind = OptimizerKind::adamw_8bit;
  Optimizer eight(s, {{"x", x8, g8}});
  double max_dev = 0, loss32 = 0, loss8 = 0, loss0 = 0, rms_dev = 0;
  for (size_t i = 0; i < n; ++i) loss0 += 0.5 * a[i] * c[i] * c[i];
  for (int t = 0; t < 300; ++t) {
    for (size_t i = 0; i < n; ++i) {
      g32[i] = a[i] * (x32[i] - c[i]);
      g8[i] = a[i] * (x8[i] - c[i]);
    }
    full.step(0.01f);
    eight.step(0.01f);
    for (size_t i = 0; i < n; ++i) max_dev = std::max(max_dev, static_cast<double>(std::fabs(x32[i] - x8[i])));
  }
  for (size_t i = 0; i < n; ++i) {
    loss32 += 0.5 * a[i] * (x32[i] - c[i]) * (x32[i] - c[i]);
    loss8 += 0.5 * a[i] * (x8[i] - c[i]) * (x8[i] - c[i]);
    rms_dev += (x32[i] - x8[i]) * (x32[i] - x8[i]);
  }
  rms_dev = std::sqrt(rms_dev / static_cast<double>(n));
  std::printf("[ 8-bit AdamW ] loss %.6g -> adamw %.6g, adamw_8bit %.6g; |x32 - x8|: max over 300 steps %.4g, "
              "final rms %.4g (targets span [-2, 2])\n",
              loss0, loss32, loss8, max_dev, rms_dev);
  // Both reach the same neighbourhood of the optimum (Adam's lr-sized oscillation dominates the loss).
  EXPECT_LT(loss32, loss0 * 1e-2);
  EXPECT_LT(loss8, loss0 * 1e-2);
  EXPECT_LT(loss8, 1.5 * loss32);
  EXPECT_LT(max_dev, 0.2);
  EXPECT_LT(rms_dev, 0.05);
  EXPECT_EQ(eight.state_bytes() < full.state_bytes() / 3, true);
}

TEST(ClipGradNorm, ScalesToMaxNorm) {
  std::vector<float> a{3.0f}, b{0.0f, 4.0f};
  std::vector<std::span<float>> grads{a, b};
  EXPECT_DOUBLE_EQ(clip_grad_norm(grads, 10.0), 5.0);  // under the limit: untouched
  EXPECT_FLOAT_EQ(a[0], 3.0f);
  EXPECT_DOUBLE_EQ(clip_grad_norm(grads, 1.0), 5.0);
  EXPECT_NEAR(a[0], 0.6, 1e-6);
  EXPECT_NEAR(b[1], 0.8, 1e-6);
  EXPECT_NEAR(clip_grad_norm(grads, 0.0), 1.0, 1e-6);  // measure only
}

namespace {

// Runs `steps` deterministic updates starting at step `from`.
void drive(Optimizer& opt, std::vector<float>& p, std::vector<float>& g, int from, int steps) {
  for (int t = from; t < from + steps; ++t) {
    for (size_t i = 0; i < p.size(); ++i) g[i] = static_cast<float>(std::sin(0.37 * t + 0.11 * static_cast<double>(i))) + 0.1f * p[i];
    opt.step(0.02f);
  }
}

void check_resume(OptimizerKind kind) {
  TempDir dir;
  OptimizerSettings s;
  s.kind = kind;
  s.weight_decay = 0.05f;
  std::vector<float> p(600, 0.25f), g(600);
  Optimizer straight(s, {{"w", p, g}});
  drive(straight, p, g, 0, 10);

  std::vector<float> q(600, 0.25f), h(600);
  {
    Optimizer first(s, {{"w", q, h}});
    drive(first, q, h, 0, 5);
    first.save(dir / "opt.bin");
  }
  s.paged_file = dir / "paged.state";  // resuming into a paged store changes nothing
  Optimizer second(s, {{"w", q, h}});
  EXPECT_TRUE(second.paged());
  second.load(dir / "opt.bin");
  EXPECT_EQ(second.steps_taken(), 5);
  drive(second, q, h, 5, 5);
  EXPECT_EQ(std::memcmp(p.data(), q.data(), p.size() * sizeof(float)), 0) << optimizer_kind_name(kind);
}

}  // namespace

TEST(OptimizerState, SaveAndLoadResumeBitExactly) {
  check_resume(OptimizerKind::adamw);
  check_resume(OptimizerKind::adamw_8bit);
  check_resume(OptimizerKind::sgd);
}

TEST(OptimizerState, RejectsAnotherRunsState) {
  TempDir dir;
  std::vector<float> p(8), g(8), r(9), gr(9);
  Optimizer a(OptimizerSettings{}, {{"w", p, g}});
  a.save(dir / "a.bin");
  Optimizer b(OptimizerSettings{}, {{"w", r, gr}});
  try {
    b.load(dir / "a.bin");
    FAIL();
  } catch (const slmtune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter w (8 values)"), std::string::npos) << e.what();
  }
  OptimizerSettings sgd;
  sgd.kind = OptimizerKind::sgd;
  Optimizer c(sgd, {{"w", p, g}});
  EXPECT_THROW(c.load(dir / "a.bin"), slmtune::Error);
  slmtune::write_file_atomically(dir / "junk.bin", "SLMOPT1");
  EXPECT_THROW(a.load(dir / "junk.bin"), slmtune::Error);
}

TEST(OptimizerState, PagedStateLivesInItsFileAndIsRemovedAfter) {
  TempDir dir;
  std::vector<float> p(1000, 1.0f), g(1000, 0.5f), q(1000, 1.0f);
  OptimizerSettings s;
  Optimizer ram(s, {{"w", q, g}});
  s.paged_file = dir / "state.bin";
  {
    Optimizer paged(s, {{"w", p, g}});
    ASSERT_TRUE(std::filesystem::exists(s.paged_file));
    // m and v of 1000 floats, each rounded up to 64 bytes.
    EXPECT_EQ(std::filesystem::file_size(s.paged_file), paged.state_bytes());
    EXPECT_EQ(paged.state_bytes(), 2 * 4032u);
    paged.step(0.1f);
    ram.step(0.1f);
    EXPECT_EQ(std::memcmp(p.data(), q.data(), p.size() * sizeof(float)), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(s.paged_file));
  s.paged_file = dir / "missing-dir" / "state.bin";
  EXPECT_THROW(Optimizer(s, {{"w", p, g}}), slmtune::Error);
}
