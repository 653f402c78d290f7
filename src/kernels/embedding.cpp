#include "kernels/embedding.hpp"

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace slmtune::kernels {
namespace {

void check_ids(const int32_t* ids, int64_t n, int64_t vocab, const char* where) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      fail("{}: token id {} at position {} is outside the vocabulary [0, {})", where, ids[i], i, vocab);
}

}  // namespace

void embedding_forward(float* out, const WeightMatrix& table, const int32_t* ids, int64_t n) {
  if (!table.data || table.rows <= 0 || table.cols <= 0)
    fail("embedding_forward: table is empty ({}x{})", table.rows, table.cols);
  check_ids(ids, n, table.rows, "embedding_forward");
  const int64_t dim = table.cols;
  const auto* bytes = static_cast<const uint8_t*>(table.data);
  const size_t row_bytes = static_cast<size_t>(dim) * dtype_size(table.dtype);
  parallel_for(n, 64, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i)
      expand_to_f32(bytes + static_cast<size_t>(ids[i]) * row_bytes, table.dtype, dim, out + i * dim);
  });
}

void embedding_backward(float* dtable, const float* dout, const int32_t* ids, int64_t n, int64_t vocab, int64_t dim) {
  check_ids(ids, n, vocab, "embedding_backward");
  parallel_for(dim, 64, [&](int64_t first, int64_t last) {
    for (int64_t i = 0; i < n; ++i) {
      float* row = dtable + static_cast<int64_t>(ids[i]) * dim;
      const float* grad = dout + i * dim;
      for (int64_t c = first; c < last; ++c) row[c] += grad[c];
    }
  });
}

}  // namespace slmtune::kernels
