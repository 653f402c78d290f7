#include "kernels/activations.hpp"

#include "kernel_test_util.hpp"
#include "kernels/activations_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(Gelu, MatchesTanhFormulaValues) {
  // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) evaluated in double precision by hand (Python math).
  const std::vector<float> x{-3.0f, -0.5f, 0.0f, 1.0f, 2.5f};
  const std::vector<double> want{-0.0036373920817729943, -0.15428599017485606, 0.0, 0.8411919906082768,
                                 2.484915733910001};
  for_each_path([&](const std::string& path) {
    std::vector<float> y(x.size());
    gelu_forward(y.data(), x.data(), static_cast<int64_t>(x.size()));
    expect_close(y, want, 1e-6, 1e-6, path);
  });
}

TEST(Gelu, BackwardMatchesFiniteDifferences) {
  std::vector<double> x = random_doubles(20, 1, -4, 4);
  const auto probe = random_doubles(20, 2);
  auto loss = [&] {
    std::vector<double> y(20);
    reference::gelu_forward(y.data(), x.data(), 20);
    return weighted_sum(y, probe);
  };
  std::vector<double> dx(20, 0.0);
  reference::gelu_backward(dx.data(), probe.data(), x.data(), 20);
  expect_gradient(x, loss, dx, "dx");
}

TEST(Gelu, FastPathMatchesReference) {
  const int64_t count = 50003;  // several parallel chunks and a tail
  const auto x = f32_exact(random_doubles(count, 3, -10, 10)), dy = f32_exact(random_doubles(count, 4));
  std::vector<double> y(count), dx(count, 0.5);
  reference::gelu_forward(y.data(), x.data(), count);
  reference::gelu_backward(dx.data(), dy.data(), x.data(), count);
  for_each_path([&](const std::string& path) {
    const auto xf = to_float(x), dyf = to_float(dy);
    std::vector<float> yf(count), dxf(count, 0.5f);
    gelu_forward(yf.data(), xf.data(), count);
    gelu_backward(dxf.data(), dyf.data(), xf.data(), count);
    expect_close(yf, y, 2e-6, 1e-5, path + " y");
    expect_close(dxf, dx, 2e-6, 1e-5, path + " dx");
    std::vector<float> dx_over(count, std::nanf(""));  // Overwrite never reads it
    gelu_backward(dx_over.data(), dyf.data(), xf.data(), count, GradientStore::Overwrite);
    std::vector<double> dx_alone(dx);
    for (double& v : dx_alone) v -= 0.5;
    expect_close(dx_over, dx_alone, 2e-6, 1e-5, path + " dx (overwritten)");
  });
}

TEST(Activations, NanPropagatesAndMaskedLogitsVanish) {
  // A NaN must survive the fast exp (a numerics check looks for it downstream), and −inf scores
  // (masked positions) must give exactly zero probability.
  const float nan = std::nanf("");
  for_each_path([&](const std::string& path) {
    std::vector<float> x(11, 0.5f), y(11);
    x[3] = nan;
    gelu_forward(y.data(), x.data(), 11);
    EXPECT_TRUE(std::isnan(y[3])) << path;
    EXPECT_FALSE(std::isnan(y[2])) << path;
    swiglu_forward(y.data(), x.data(), x.data(), 1, 11, 11);
    EXPECT_TRUE(std::isnan(y[3])) << path;
    softmax_forward(y.data(), x.data(), 1, 11);
    EXPECT_TRUE(std::isnan(y[3])) << path << " softmax";
    std::vector<float> logits{1.0f, -INFINITY, 2.0f, -INFINITY, 0.0f, 3.0f, -INFINITY, 1.0f, 0.5f, -INFINITY};
    std::vector<float> p(logits.size());
    softmax_forward(p.data(), logits.data(), 1, static_cast<int64_t>(logits.size()));
    double finite_sum = 0;
    for (float v : {1.0f, 2.0f, 0.0f, 3.0f, 1.0f, 0.5f}) finite_sum += std::exp(double(v));
    for (size_t i = 0; i < logits.size(); ++i) {
      if (std::isinf(logits[i])) EXPECT_EQ(p[i], 0.0f) << path << " " << i;
      else EXPECT_NEAR(p[i], std::exp(double(logits[i])) / finite_sum, 1e-6) << path << " " << i;
    }
  });
}

TEST(SwiGlu, BackwardMatchesFiniteDifferences) {
  const int64_t rows = 3, cols = 4;
  std::vector<double> gate = random_doubles(rows * cols, 5, -4, 4), up = random_doubles(rows * cols, 6);
  const auto probe = random_doubles(rows * cols, 7);
  auto loss = [&] {
    std::vector<double> y(rows * cols);
    reference::swiglu_forward(y.data(), gate.data(), up.data(), rows, cols, cols);
    return weighted_sum(y, probe);
  };
  std::vector<double> dgate(rows * cols, 0.0), dup(rows * cols, 0.0);
  reference::swiglu_backward(dgate.data(), dup.data(), probe.data(), gate.data(), up.data(), rows, cols, cols);
  expect_gradient(gate, loss, dgate, "dgate");
  expect_gradient(up, loss, dup, "dup");
}

TEST(SwiGlu, FastPathOnFusedGateUpMatchesReference) {
  // Phi-3's gate_up_proj output: [rows, 2·cols], gate in the first half of each row.
  const int64_t rows = 33, cols = 101;
  const auto fused = f32_exact(random_doubles(rows * 2 * cols, 8, -6, 6)), dy = f32_exact(random_doubles(rows * cols, 9));
  std::vector<double> y(rows * cols), dfused(rows * 2 * cols, 0.25);
  reference::swiglu_forward(y.data(), fused.data(), fused.data() + cols, rows, cols, 2 * cols);
  reference::swiglu_backward(dfused.data(), dfused.data() + cols, dy.data(), fused.data(), fused.data() + cols, rows,
                             cols, 2 * cols);
  for (int64_t i = 0; i < cols; ++i)  // independent check of one element: silu(g)·u
    EXPECT_NEAR(y[i], fused[i] / (1 + std::exp(-fused[i])) * fused[cols + i], 1e-12);
  for_each_path([&](const std::string& path) {
    const auto fusedf = to_float(fused), dyf = to_float(dy);
    std::vector<float> yf(rows * cols), dfusedf(rows * 2 * cols, 0.25f);
    swiglu_forward(yf.data(), fusedf.data(), fusedf.data() + cols, rows, cols, 2 * cols);
    swiglu_backward(dfusedf.data(), dfusedf.data() + cols, dyf.data(), fusedf.data(), fusedf.data() + cols, rows, cols,
                    2 * cols);
    expect_close(yf, y, 1e-5, 1e-5, path + " y");
    expect_close(dfusedf, dfused, 1e-5, 1e-5, path + " dgate|dup");
    std::vector<float> dfused_over(rows * 2 * cols, std::nanf(""));
    swiglu_backward(dfused_over.data(), dfused_over.data() + cols, dyf.data(), fusedf.data(), fusedf.data() + cols,
                    rows, cols, 2 * cols, GradientStore::Overwrite);
    std::vector<double> dfused_alone(dfused);
    for (double& v : dfused_alone) v -= 0.25;
    expect_close(dfused_over, dfused_alone, 1e-5, 1e-5, path + " dgate|dup (overwritten)");
  });
}

TEST(Softmax, BackwardMatchesFiniteDifferences) {
  const int64_t rows = 2, cols = 5;
  std::vector<double> x = random_doubles(rows * cols, 10, -3, 3);
  const auto probe = random_doubles(rows * cols, 11);
  auto loss = [&] {
    std::vector<double> y(rows * cols);
    reference::softmax_forward(y.data(), x.data(), rows, cols);
    return weighted_sum(y, probe);
  };
  std::vector<double> y(rows * cols), dx(rows * cols, 0.0);
  reference::softmax_forward(y.data(), x.data(), rows, cols);
  reference::softmax_backward(dx.data(), probe.data(), y.data(), rows, cols);
  expect_gradient(x, loss, dx, "dx");
}

TEST(Softmax, FastPathMatchesReferenceWithLogSumExp) {
  const int64_t rows = 19, cols = 1003;
  const auto x = f32_exact(random_doubles(rows * cols, 12, -30, 30)), dy = f32_exact(random_doubles(rows * cols, 13));
  std::vector<double> y(rows * cols), lse(rows), dx(rows * cols, 0.0);
  reference::softmax_forward(y.data(), x.data(), rows, cols, lse.data());
  reference::softmax_backward(dx.data(), dy.data(), y.data(), rows, cols);
  for_each_path([&](const std::string& path) {
    const auto xf = to_float(x), dyf = to_float(dy);
    std::vector<float> yf(rows * cols), lsef(rows), dxf(rows * cols, 0.0f);
    softmax_forward(yf.data(), xf.data(), rows, cols, lsef.data());
    softmax_backward(dxf.data(), dyf.data(), yf.data(), rows, cols);
    expect_close(yf, y, 1e-7, 1e-5, path + " y");
    expect_close(lsef, lse, 1e-5, 1e-6, path + " lse");
    expect_close(dxf, dx, 1e-6, 1e-4, path + " dx");
  });
}

// The scaled softmax a cross-entropy turns into gradient weights: scale × the reference softmax, and
// every result too small for a normal float written as exactly 0 (logits 100 apart give e^-100 ≈ 4e-44
// times the scale, a subnormal product that would slow the matrix product it feeds).
TEST(Softmax, ScaledOutputIsTheScaledSoftmaxWithNoSubnormals) {
  const int64_t rows = 3, cols = 517;
  auto x = f32_exact(random_doubles(rows * cols, 14, -3, 3));
  x[0] = 3.0;  // row 0's maximum; every 5th logit 84–86 below it, where exp is normal but tiny
  for (int64_t c = 5; c < cols; c += 5) x[c] = 3.0 - 84.0 - 0.5 * static_cast<double>(c % 3);
  for (int64_t c = 2 * cols; c < 3 * cols; c += 7) x[c] = -200.0;  // row 2: below exp's range
  std::vector<double> y(rows * cols), lse(rows);
  reference::softmax_forward(y.data(), x.data(), rows, cols, lse.data());
  const double scale = -1.0 / 768.0;  // the sign must survive the flush test too
  for_each_path([&](const std::string& path) {
    const auto xf = to_float(x);
    std::vector<float> yf(rows * cols), lsef(rows);
    softmax_forward(yf.data(), xf.data(), rows, cols, lsef.data(), static_cast<float>(scale));
    int64_t flushed = 0;
    for (int64_t i = 0; i < rows * cols; ++i) {
      EXPECT_NE(std::fpclassify(yf[i]), FP_SUBNORMAL) << path << " " << i;
      const double want = scale * y[i];
      if (std::fabs(want) < std::numeric_limits<float>::min()) {
        EXPECT_EQ(yf[i], 0.0f) << path << " " << i;
        ++flushed;
      } else {
        EXPECT_NEAR(yf[i], want, 1e-5 * std::fabs(want)) << path << " " << i;
      }
    }
    EXPECT_GT(flushed, cols / 5) << path;  // the test reaches the flush at all
    expect_close(lsef, lse, 1e-5, 1e-6, path + " lse");
  });
}

}  // namespace
}  // namespace slmtune::kernels
