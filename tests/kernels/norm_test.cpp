#include "kernels/norm.hpp"

#include "kernel_test_util.hpp"
#include "kernels/norm_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(RmsNorm, MatchesHandComputedValues) {
  // x = [1, 2, 3, 4]: mean of squares 7.5, so y = x / sqrt(7.5 + eps) · w.
  const std::vector<float> x{1, 2, 3, 4}, weight{1, 0.5f, 2, -1};
  std::vector<float> y(4), rstd(1);
  rmsnorm_forward(y.data(), rstd.data(), x.data(), weight.data(), 1, 4, 1e-6f);
  const double s = 1.0 / std::sqrt(7.5 + 1e-6);
  expect_close(y, {1 * s, 2 * s * 0.5, 3 * s * 2, -4 * s}, 1e-6, 1e-6, "y");
  EXPECT_NEAR(rstd[0], s, 1e-7);
}

TEST(RmsNorm, BackwardMatchesFiniteDifferences) {
  const int64_t rows = 3, dim = 7;
  std::vector<double> x = random_doubles(rows * dim, 1), weight = random_doubles(dim, 2, 0.5, 1.5);
  const std::vector<double> probe = random_doubles(rows * dim, 3);
  auto loss = [&] {
    std::vector<double> y(rows * dim);
    reference::rmsnorm_forward(y.data(), static_cast<double*>(nullptr), x.data(), weight.data(), rows, dim, 1e-5);
    return weighted_sum(y, probe);
  };
  std::vector<double> y(rows * dim), rstd(rows), dx(rows * dim, 0.0), dweight(dim, 0.0);
  reference::rmsnorm_forward(y.data(), rstd.data(), x.data(), weight.data(), rows, dim, 1e-5);
  reference::rmsnorm_backward(dx.data(), dweight.data(), probe.data(), x.data(), weight.data(), rstd.data(), rows, dim);
  expect_gradient(x, loss, dx, "dx");
  expect_gradient(weight, loss, dweight, "dweight");
}

TEST(RmsNorm, FastPathMatchesReference) {
  for (int64_t dim : {5, 64, 77}) {
    const int64_t rows = 40;
    const auto x = f32_exact(random_doubles(rows * dim, 4, -3, 3)), weight = f32_exact(random_doubles(dim, 5));
    const auto dy = f32_exact(random_doubles(rows * dim, 6));
    std::vector<double> y(rows * dim), rstd(rows), dx(rows * dim, 0.5), dweight(dim, 0.25);
    reference::rmsnorm_forward(y.data(), rstd.data(), x.data(), weight.data(), rows, dim, 1e-5);
    reference::rmsnorm_backward(dx.data(), dweight.data(), dy.data(), x.data(), weight.data(), rstd.data(), rows, dim);
    for_each_path([&](const std::string& path) {
      const auto xf = to_float(x), wf = to_float(weight), dyf = to_float(dy);
      std::vector<float> yf(rows * dim), rstdf(rows), dxf(rows * dim, 0.5f), dwf(dim, 0.25f);
      rmsnorm_forward(yf.data(), rstdf.data(), xf.data(), wf.data(), rows, dim, 1e-5f);
      rmsnorm_backward(dxf.data(), dwf.data(), dyf.data(), xf.data(), wf.data(), rstdf.data(), rows, dim);
      const std::string name = path + " dim " + std::to_string(dim);
      expect_close(yf, y, 1e-5, 1e-5, name + " y");
      expect_close(rstdf, rstd, 0, 1e-5, name + " rstd");
      expect_close(dxf, dx, 1e-5, 1e-4, name + " dx");
      expect_close(dwf, dweight, 1e-4, 1e-4, name + " dweight");
    });
  }
}

TEST(LayerNorm, MatchesHandComputedValues) {
  // x = [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
  const std::vector<float> x{1, 2, 3, 4}, weight{1, 1, 2, 1}, bias{0, 1, 0, 0};
  std::vector<float> y(4), mean(1), rstd(1);
  layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), weight.data(), bias.data(), 1, 4, 1e-5f);
  const double s = 1.0 / std::sqrt(1.25 + 1e-5);
  expect_close(y, {-1.5 * s, -0.5 * s + 1, 0.5 * s * 2, 1.5 * s}, 1e-6, 1e-6, "y");
  EXPECT_FLOAT_EQ(mean[0], 2.5f);
}

TEST(LayerNorm, BackwardMatchesFiniteDifferences) {
  const int64_t rows = 3, dim = 6;
  std::vector<double> x = random_doubles(rows * dim, 7), weight = random_doubles(dim, 8, 0.5, 1.5),
                      bias = random_doubles(dim, 9);
  const std::vector<double> probe = random_doubles(rows * dim, 10);
  auto loss = [&] {
    std::vector<double> y(rows * dim);
    reference::layernorm_forward(y.data(), static_cast<double*>(nullptr), static_cast<double*>(nullptr), x.data(),
                                 weight.data(), bias.data(), rows, dim, 1e-5);
    return weighted_sum(y, probe);
  };
  std::vector<double> y(rows * dim), mean(rows), rstd(rows), dx(rows * dim, 0.0), dw(dim, 0.0), db(dim, 0.0);
  reference::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), weight.data(), bias.data(), rows, dim,
                               1e-5);
  reference::layernorm_backward(dx.data(), dw.data(), db.data(), probe.data(), x.data(), weight.data(), mean.data(),
                                rstd.data(), rows, dim);
  expect_gradient(x, loss, dx, "dx");
  expect_gradient(weight, loss, dw, "dweight");
  expect_gradient(bias, loss, db, "dbias");
}

TEST(LayerNorm, FastPathMatchesReference) {
  for (int64_t dim : {3, 32, 81}) {
    const int64_t rows = 37;
    const auto x = f32_exact(random_doubles(rows * dim, 11, -2, 4)), weight = f32_exact(random_doubles(dim, 12));
    const auto bias = f32_exact(random_doubles(dim, 13)), dy = f32_exact(random_doubles(rows * dim, 14));
    std::vector<double> y(rows * dim), mean(rows), rstd(rows), dx(rows * dim, 0.0), dw(dim, 0.0), db(dim, 0.0);
    reference::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), weight.data(), bias.data(), rows, dim,
                                 1e-5);
    reference::layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), weight.data(), mean.data(),
                                  rstd.data(), rows, dim);
    for_each_path([&](const std::string& path) {
      const auto xf = to_float(x), wf = to_float(weight), bf = to_float(bias), dyf = to_float(dy);
      std::vector<float> yf(rows * dim), meanf(rows), rstdf(rows), dxf(rows * dim, 0.0f), dwf(dim, 0.0f), dbf(dim, 0.0f);
      layernorm_forward(yf.data(), meanf.data(), rstdf.data(), xf.data(), wf.data(), bf.data(), rows, dim, 1e-5f);
      layernorm_backward(dxf.data(), dwf.data(), dbf.data(), dyf.data(), xf.data(), wf.data(), meanf.data(),
                         rstdf.data(), rows, dim);
      const std::string name = path + " dim " + std::to_string(dim);
      expect_close(yf, y, 1e-5, 1e-5, name + " y");
      expect_close(meanf, mean, 1e-6, 1e-5, name + " mean");
      expect_close(dxf, dx, 1e-5, 1e-4, name + " dx");
      expect_close(dwf, dw, 1e-4, 1e-4, name + " dweight");
      expect_close(dbf, db, 1e-4, 1e-4, name + " dbias");
    });
  }
}

}  // namespace
}  // namespace slmtune::kernels
