#include "kernels/matmul.hpp"

#include "core/error.hpp"
#include "core/half.hpp"
#include "kernel_test_util.hpp"
#include "kernels/matmul_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(Linear, BackwardMatchesFiniteDifferences) {
  const int64_t n = 3, in = 4, out = 5;
  std::vector<double> x = random_doubles(n * in, 1), w = random_doubles(out * in, 2), b = random_doubles(out, 3);
  const auto probe = random_doubles(n * out, 4);
  auto loss = [&] {
    std::vector<double> y(n * out);
    reference::linear_forward(y.data(), x.data(), w.data(), b.data(), n, in, out);
    return weighted_sum(y, probe);
  };
  std::vector<double> dx(n * in, 0.0), dw(out * in, 0.0), db(out, 0.0);
  reference::linear_backward(dx.data(), dw.data(), db.data(), probe.data(), x.data(), w.data(), n, in, out);
  expect_gradient(x, loss, dx, "dx");
  expect_gradient(w, loss, dw, "dweight");
  expect_gradient(b, loss, db, "dbias");
}

void check_f32_weights(int64_t n, int64_t in = 37, int64_t out = 45) {
  const auto x = f32_exact(random_doubles(n * in, 5)), w = f32_exact(random_doubles(out * in, 6));
  const auto b = f32_exact(random_doubles(out, 7)), dy = f32_exact(random_doubles(n * out, 8));
  std::vector<double> y(n * out), dx(n * in, 1.0), dw(out * in, -1.0), db(out, 2.0);
  reference::linear_forward(y.data(), x.data(), w.data(), b.data(), n, in, out);
  reference::linear_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), n, in, out);

  const auto xf = to_float(x), wf = to_float(w), bf = to_float(b), dyf = to_float(dy);
  const WeightMatrix weight{wf.data(), DType::F32, out, in};
  std::vector<double> dx_alone(dx);
  for (double& v : dx_alone) v -= 1.0;
  for_each_path([&](const std::string& path) {
    const std::string name = path + " n=" + std::to_string(n) + " " + std::to_string(out) + "x" + std::to_string(in);
    std::vector<float> yf(n * out), dxf(n * in, 1.0f), dwf(out * in, -1.0f), dbf(out, 2.0f);
    linear_forward(yf.data(), xf.data(), weight, bf.data(), n);
    linear_backward(dxf.data(), dwf.data(), dbf.data(), dyf.data(), xf.data(), weight, n);
    expect_close(yf, y, 1e-5, 1e-5, name + " y");
    expect_close(dxf, dx, 1e-5, 1e-5, name + " dx (accumulated onto 1)");
    expect_close(dwf, dw, 1e-5, 1e-5, name + " dweight (accumulated onto -1)");
    expect_close(dbf, db, 1e-5, 1e-5, name + " dbias (accumulated onto 2)");
    // Overwrite: dx = dy·W whatever dx held (NaN here), the accumulated result less the 1 it started at.
    std::vector<float> dx_over(n * in, std::nanf(""));
    linear_backward(dx_over.data(), nullptr, nullptr, dyf.data(), xf.data(), weight, n, GradientStore::Overwrite);
    expect_close(dx_over, dx_alone, 1e-5, 1e-5, name + " dx (overwritten)");
  });
}

// 7 rows go through sgemm; one row (decoding) through the gemv loop (AVX-512 or AVX2) or sgemv. 300
// columns take the AVX2 loop's 32-wide, 8-wide and scalar parts and the AVX-512 loop's 16-wide part
// and masked tail; 700 rows of them are split between threads, each run in groups of four rows and a
// remainder of single rows. 5 columns are a tail alone, 64 columns have none, 3 rows are no group.
TEST(Linear, F32BlasMatchesReference) {
  check_f32_weights(7);
  check_f32_weights(1);
  check_f32_weights(1, 300, 700);
  check_f32_weights(1, 5, 3);
  check_f32_weights(1, 64, 9);
}

// Decoding with no bias: the product overwrites y (NaN before), on every path.
TEST(Linear, DecodingWithoutBiasOverwritesTheOutput) {
  const int64_t in = 83, out = 150;
  const auto x = f32_exact(random_doubles(in, 13)), w = f32_exact(random_doubles(out * in, 14));
  std::vector<double> y(out);
  reference::linear_forward(y.data(), x.data(), w.data(), static_cast<const double*>(nullptr), 1, in, out);
  const auto xf = to_float(x), wf = to_float(w);
  for_each_path([&](const std::string& path) {
    std::vector<float> yf(out, std::nanf(""));
    linear_forward(yf.data(), xf.data(), WeightMatrix{wf.data(), DType::F32, out, in}, nullptr, 1);
    expect_close(yf, y, 1e-5, 1e-5, path + " y");
  });
}

// bf16/f16 weights go through the tile-expansion path; these sizes give several tiles in both
// directions, with a shorter last one (forward: at most 64 rows of in=1024 per tile; backward: at
// most 436 columns of out=150, or, with many rows, 64-row tiles of W).
void check_half_weights(DType dtype, int64_t n, int64_t in = 1024, int64_t out = 150) {
  const auto x = f32_exact(random_doubles(n * in, 9)), dy = f32_exact(random_doubles(n * out, 10));
  const auto b = f32_exact(random_doubles(out, 11));
  const auto w_source = random_doubles(out * in, 12);
  std::vector<uint16_t> w_half(out * in);
  std::vector<double> w(out * in);  // the exact values the half weights hold
  for (size_t i = 0; i < w_half.size(); ++i) {
    const float value = static_cast<float>(w_source[i]);
    w_half[i] = dtype == DType::BF16 ? f32_to_bf16(value) : f32_to_f16(value);
    w[i] = dtype == DType::BF16 ? bf16_to_f32(w_half[i]) : f16_to_f32(w_half[i]);
  }
  std::vector<double> y(n * out), dx(n * in, 0.0);
  reference::linear_forward(y.data(), x.data(), w.data(), b.data(), n, in, out);
  reference::linear_backward(dx.data(), static_cast<double*>(nullptr), static_cast<double*>(nullptr), dy.data(),
                             x.data(), w.data(), n, in, out);
  for_each_path([&](const std::string& path) {
    const auto xf = to_float(x), bf = to_float(b), dyf = to_float(dy);
    const WeightMatrix weight{w_half.data(), dtype, out, in};
    std::vector<float> yf(n * out), dxf(n * in, 0.0f);
    linear_forward(yf.data(), xf.data(), weight, bf.data(), n);
    linear_backward(dxf.data(), nullptr, nullptr, dyf.data(), xf.data(), weight, n);
    const std::string name = std::string(dtype_name(dtype)) + " " + path + " n=" + std::to_string(n) + " " +
                             std::to_string(out) + "x" + std::to_string(in);
    expect_close(yf, y, 1e-4, 1e-5, name + " y");
    expect_close(dxf, dx, 1e-5, 1e-5, name + " dx");
    std::vector<float> dx_over(n * in, std::nanf(""));
    linear_backward(dx_over.data(), nullptr, nullptr, dyf.data(), xf.data(), weight, n, GradientStore::Overwrite);
    expect_close(dx_over, dx, 1e-5, 1e-5, name + " dx (overwritten)");
  });
}

// 5 rows: backward splits W's columns among threads; 300 rows: it splits the rows; 1 row: the
// forward's decoding path (AVX-512: widened in registers, four rows at a time; else a tile and the
// gemv loop). 77 columns end in a 16-wide step and a masked 13-wide tail; 9 rows leave one row over.
TEST(Linear, Bf16WeightsExpandedTileByTileMatchReference) {
  check_half_weights(DType::BF16, 1);
  check_half_weights(DType::BF16, 1, 77, 9);
  check_half_weights(DType::BF16, 5);
  check_half_weights(DType::BF16, 300);
}
TEST(Linear, F16WeightsExpandedTileByTileMatchReference) {
  check_half_weights(DType::F16, 1);
  check_half_weights(DType::F16, 1, 77, 9);
  check_half_weights(DType::F16, 5);
  check_half_weights(DType::F16, 300);
}

TEST(Linear, ExpansionFastPathMatchesCoreConversions) {
  // Includes specials: ±0, subnormals, ±Inf, NaN, and an odd count so the scalar tail runs.
  std::vector<uint16_t> bits{0x0000, 0x8000, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0xc000, 0x7f80, 0x0080};
  for (uint32_t i = 0; i < 1000; ++i) bits.push_back(static_cast<uint16_t>(i * 2654435761u >> 16));
  for (DType dtype : {DType::BF16, DType::F16}) {
    for_each_path([&](const std::string& path) {
      std::vector<float> expanded(bits.size());
      expand_to_f32(bits.data(), dtype, static_cast<int64_t>(bits.size()), expanded.data());
      for (size_t i = 0; i < bits.size(); ++i) {
        const float want = dtype == DType::BF16 ? bf16_to_f32(bits[i]) : f16_to_f32(bits[i]);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(expanded[i])) << path << " bits " << bits[i];
        else
          ASSERT_EQ(expanded[i], want) << dtype_name(dtype) << " " << path << " bits " << bits[i];
      }
    });
  }
}

TEST(Linear, RejectsUnusableWeights) {
  const std::vector<int32_t> w(6);
  std::vector<float> x(3), y(2);
  EXPECT_THROW(linear_forward(y.data(), x.data(), WeightMatrix{w.data(), DType::I32, 2, 3}, nullptr, 1), Error);
  EXPECT_THROW(linear_forward(y.data(), x.data(), WeightMatrix{nullptr, DType::F32, 2, 3}, nullptr, 1), Error);
}

}  // namespace
}  // namespace slmtune::kernels
