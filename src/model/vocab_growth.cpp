#include "model/vocab_growth.hpp"

#include <string>
#include <unordered_map>

#include "core/error.hpp"

namespace slmtune {
namespace {

// `tensor` ([vocab, ...] or [vocab]) with `rows` more rows, each the mean of the old rows.
Tensor grow_rows(const Tensor& tensor, int64_t rows) {
  const int64_t old_rows = tensor.dim(0);
  const int64_t width = tensor.rank() == 2 ? tensor.dim(1) : 1;
  const std::vector<float> old_values = tensor.to_f32_vector();
  std::vector<double> mean(static_cast<size_t>(width), 0.0);
  for (int64_t r = 0; r < old_rows; ++r)
    for (int64_t c = 0; c < width; ++c) mean[static_cast<size_t>(c)] += old_values[static_cast<size_t>(r * width + c)];
  for (double& m : mean) m /= static_cast<double>(old_rows);

  Shape shape = tensor.shape();
  shape[0] = old_rows + rows;
  Tensor grown = Tensor::zeros(DType::F32, shape);
  float* out = grown.as_mutable<float>();
  std::copy(old_values.begin(), old_values.end(), out);
  for (int64_t r = old_rows; r < old_rows + rows; ++r)
    for (int64_t c = 0; c < width; ++c) out[r * width + c] = static_cast<float>(mean[static_cast<size_t>(c)]);
  // f32 → f16/bf16 → f32 round trips are exact for the old rows, so they stay bit-identical.
  return tensor.dtype() == DType::F32 ? grown : grown.cast(tensor.dtype());
}

bool grows_with_vocabulary(const TensorSpec& spec) {
  return spec.kind == TensorKind::Embedding || spec.kind == TensorKind::Output;
}

}  // namespace

ModelWeights grow_vocabulary(const ModelWeights& weights, int64_t rows) {
  if (rows < 0) fail("grow_vocabulary: {} rows requested (expected ≥ 0)", rows);
  if (rows == 0) return weights;
  std::unordered_map<std::string, Tensor> tensors;
  for (const WeightEntry& entry : weights.entries()) {
    if (entry.is_nf4()) fail("{}: '{}' is in NF4; grow the vocabulary before quantizing", weights.origin(), entry.spec.hf_name);
    const bool grows = grows_with_vocabulary(entry.spec) && entry.tensor.rank() >= 1 &&
                       entry.tensor.dim(0) == weights.config().vocab_size;
    tensors[entry.spec.hf_name] = grows ? grow_rows(entry.tensor, rows) : entry.tensor;
  }
  ModelConfig config = weights.config();
  config.vocab_size += rows;
  return ModelWeights::from_tensors(
      config,
      [&](const std::string& name) {
        const auto it = tensors.find(name);
        return it == tensors.end() ? Tensor() : it->second;
      },
      weights.origin());
}

uint64_t vocabulary_growth_bytes(const ModelWeights& weights, int64_t rows) {
  uint64_t bytes = 0;
  for (const WeightEntry& entry : weights.entries())
    if (grows_with_vocabulary(entry.spec) && entry.tensor.rank() >= 1 && entry.tensor.dim(0) == weights.config().vocab_size)
      bytes += static_cast<uint64_t>(rows) * (entry.tensor.nbytes() / static_cast<uint64_t>(entry.tensor.dim(0)));
  return bytes;
}

}  // namespace slmtune
