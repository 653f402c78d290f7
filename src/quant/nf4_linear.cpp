#include "quant/nf4_linear.hpp"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace slmtune::quant {
namespace {

struct Dims {
  int64_t out, in;
};

Dims dims_of(const Nf4Tensor& weight) {
  if (weight.shape().size() != 2) fail("NF4 linear: weight of shape {} is not a matrix", shape_string(weight.shape()));
  return {weight.shape()[0], weight.shape()[1]};
}

// About 256 KiB of f32 per tile: big enough for BLAS to run at speed, small enough to stay in cache.
int64_t tile_rows(int64_t in) { return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(in, 1)); }

void dequantize_rows(const Nf4Tensor& weight, int64_t first_row, int64_t rows, int64_t in, float* tile) {
  // Rows are independent, so de-quantization splits among threads; BLAS then uses them all again.
  parallel_for(rows, 8, [&](int64_t begin, int64_t end) {
    weight.dequantize((first_row + begin) * in, (end - begin) * in, tile + begin * in);
  });
}

}  // namespace

void nf4_linear_forward(float* y, const float* x, const Nf4Tensor& weight, const float* bias, int64_t n) {
  const auto [out, in] = dims_of(weight);
  const int64_t step = tile_rows(in);
  std::vector<float> tile(static_cast<size_t>(std::min(step, out) * in));
  for (int64_t r = 0; r < out; r += step) {
    const int64_t rows = std::min(step, out - r);
    dequantize_rows(weight, r, rows, in, tile.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(rows),
                static_cast<int>(in), 1.0f, x, static_cast<int>(in), tile.data(), static_cast<int>(in), 0.0f, y + r,
                static_cast<int>(out));
  }
  if (bias)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < out; ++o) y[i * out + o] += bias[o];
}

void nf4_linear_backward_input(float* dx, const float* dy, const Nf4Tensor& weight, int64_t n) {
  const auto [out, in] = dims_of(weight);
  const int64_t step = tile_rows(in);
  std::vector<float> tile(static_cast<size_t>(std::min(step, out) * in));
  for (int64_t r = 0; r < out; r += step) {
    const int64_t rows = std::min(step, out - r);
    dequantize_rows(weight, r, rows, in, tile.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(in),
                static_cast<int>(rows), 1.0f, dy + r, static_cast<int>(out), tile.data(), static_cast<int>(in), 1.0f,
                dx, static_cast<int>(in));
  }
}

}  // namespace slmtune::quant
