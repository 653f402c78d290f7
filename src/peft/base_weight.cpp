#include "peft/base_weight.hpp"

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "kernels/matmul.hpp"

namespace slmtune::peft {

BaseWeight base_weight(std::shared_ptr<const ModelWeights> weights, const std::string& hf_name) {
  const int index = weights->index(hf_name);
  if (index < 0) fail("{}: no tensor '{}'", weights->origin(), hf_name);
  const WeightEntry& entry = (*weights)[static_cast<size_t>(index)];
  if (entry.nf4) return base_weight(entry.nf4);  // a QLoRA base: DoRA reads it through its NF4 blocks
  if (entry.tensor.rank() != 2) fail("{}: '{}' is not a matrix", weights->origin(), hf_name);
  BaseWeight w;
  w.rows = entry.tensor.dim(0);
  w.cols = entry.tensor.dim(1);
  const kernels::WeightMatrix matrix = entry.matrix();
  const int64_t cols = w.cols;
  w.read_rows = [weights, matrix, cols](int64_t first, int64_t count, float* out) {
    const auto* bytes = static_cast<const std::byte*>(matrix.data) + first * cols * static_cast<int64_t>(dtype_size(matrix.dtype));
    kernels::expand_to_f32(bytes, matrix.dtype, count * cols, out);
  };
  return w;
}

BaseWeight base_weight(std::shared_ptr<const quant::Nf4Tensor> weight) {
  if (weight->shape().size() != 2) fail("NF4 base weight of shape {} is not a matrix", shape_string(weight->shape()));
  BaseWeight w;
  w.rows = weight->shape()[0];
  w.cols = weight->shape()[1];
  const int64_t cols = w.cols;
  w.read_rows = [weight, cols](int64_t first, int64_t count, float* out) { weight->dequantize(first * cols, count * cols, out); };
  return w;
}

BaseWeight base_weight(std::shared_ptr<const std::vector<float>> weight, int64_t rows, int64_t cols) {
  if (static_cast<int64_t>(weight->size()) != rows * cols)
    fail("base weight: {} values for a [{}, {}] matrix", weight->size(), rows, cols);
  BaseWeight w;
  w.rows = rows;
  w.cols = cols;
  w.read_rows = [weight, cols](int64_t first, int64_t count, float* out) {
    std::copy(weight->begin() + first * cols, weight->begin() + (first + count) * cols, out);
  };
  return w;
}

}  // namespace slmtune::peft
