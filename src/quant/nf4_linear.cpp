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

// About 256 KiB of f32 per tile: big enough for sgemm to run at speed, small enough to stay in cache.
constexpr int64_t kTileFloats = 64 * 1024;
// Below this many input rows per thread, the backward splits W's columns instead of dy's rows.
constexpr int64_t kRowsPerThread = 64;

// Lines per tile, with the tile count a multiple of the thread count so threads get equal shares.
int64_t tile_lines(int64_t total, int64_t line_length) {
  const int64_t max_lines = std::max<int64_t>(1, kTileFloats / std::max<int64_t>(line_length, 1));
  const int64_t workers = std::max(1, threads());
  int64_t tiles = (total + max_lines - 1) / max_lines;
  tiles = (tiles + workers - 1) / workers * workers;
  return std::max<int64_t>(1, (total + tiles - 1) / tiles);
}

int i(int64_t v) { return static_cast<int>(v); }

}  // namespace

// Threads take disjoint tiles of output features, each de-quantizing into its own buffer and running
// a single-threaded sgemm (a multi-threaded BLAS call per small tile spends its time synchronising).
void nf4_linear_forward(float* y, const float* x, const Nf4Tensor& weight, const float* bias, int64_t n) {
  // Plain variables, not a structured binding: clang 14 cannot capture those in a lambda.
  const Dims dims = dims_of(weight);
  const int64_t out = dims.out, in = dims.in;
  const int64_t lines = tile_lines(out, in);
  const int64_t tiles = (out + lines - 1) / lines;
  parallel_for(tiles, 1, [&](int64_t first, int64_t last) {
    std::vector<float> tile(static_cast<size_t>(lines * in));
    for (int64_t t = first; t < last; ++t) {
      const int64_t r0 = t * lines, count = std::min(lines, out - r0);
      weight.dequantize(r0 * in, count * in, tile.data());
      float beta = 0.0f;
      if (bias) {
        for (int64_t r = 0; r < n; ++r) std::copy(bias + r0, bias + r0 + count, y + r * out + r0);
        beta = 1.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(n), i(count), i(in), 1.0f, x, i(in), tile.data(), i(in),
                  beta, y + r0, i(out));
    }
  });
}

// dx += dy·W. Many rows: threads split dx's rows and each walks W in row tiles (de-quantizing W once
// per thread, which is cheap next to the product). Few rows: threads split W's columns, so each owns
// disjoint columns of dx.
void nf4_linear_backward_input(float* dx, const float* dy, const Nf4Tensor& weight, int64_t n) {
  // Plain variables, not a structured binding: clang 14 cannot capture those in a lambda.
  const Dims dims = dims_of(weight);
  const int64_t out = dims.out, in = dims.in;
  if (n >= kRowsPerThread * std::max(1, threads())) {
    const int64_t lines = std::min(out, std::max<int64_t>(16, kTileFloats / in));
    parallel_for(n, kRowsPerThread, [&](int64_t first, int64_t last) {
      std::vector<float> tile(static_cast<size_t>(lines * in));
      for (int64_t r0 = 0; r0 < out; r0 += lines) {
        const int64_t count = std::min(lines, out - r0);
        weight.dequantize(r0 * in, count * in, tile.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(last - first), i(in), i(count), 1.0f,
                    dy + first * out + r0, i(out), tile.data(), i(in), 1.0f, dx + first * in, i(in));
      }
    });
    return;
  }
  const int64_t width = tile_lines(in, out);
  const int64_t tiles = (in + width - 1) / width;
  parallel_for(tiles, 1, [&](int64_t first, int64_t last) {
    std::vector<float> tile(static_cast<size_t>(out * width));
    for (int64_t t = first; t < last; ++t) {
      const int64_t c0 = t * width, count = std::min(width, in - c0);
      for (int64_t r = 0; r < out; ++r) weight.dequantize(r * in + c0, count, tile.data() + r * count);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(n), i(count), i(out), 1.0f, dy, i(out), tile.data(),
                  i(count), 1.0f, dx + c0, i(in));
    }
  });
}

}  // namespace slmtune::quant
