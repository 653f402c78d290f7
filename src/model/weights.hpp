#pragma once
// A model's named weights in one table (llm.c style): one entry per tensor of architecture.hpp's
// table, kept in its stored dtype (f32/f16/bf16) as a zero-copy view of the mapped file. The few
// exceptions own their memory: GGUF llama-arch Q/K rows (un-permuted from llama.cpp's adjacent-pair
// RoPE layout back to Hugging Face's rotate-half layout) and an f32 copy of every 1-D tensor (norms
// and biases), because the kernels take those as float pointers.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"
#include "kernels/matmul.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"

namespace slmtune {

struct WeightEntry {
  TensorSpec spec;          // HF name, GGUF name, shape, kind, layer
  Tensor tensor;            // stored dtype; a view of the file or owned
  std::vector<float> f32;   // 1-D tensors only: the values in f32

  kernels::WeightMatrix matrix() const;  // for 2-D tensors
  const float* vector() const { return f32.empty() ? nullptr : f32.data(); }
};

class ModelWeights {
 public:
  // A Hugging Face directory (config.json + safetensors) or a .gguf file.
  static ModelWeights load(const std::filesystem::path& path);
  static ModelWeights load_hf(const std::filesystem::path& dir);
  static ModelWeights load_gguf(const std::filesystem::path& file);
  // From any source of tensors by HF name (`lookup` returns an empty Tensor when absent); `origin`
  // names the source in errors.
  static ModelWeights from_tensors(const ModelConfig& config, const std::function<Tensor(const std::string&)>& lookup,
                                   const std::string& origin);

  const ModelConfig& config() const { return config_; }
  const std::string& origin() const { return origin_; }
  const std::vector<WeightEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  const WeightEntry& operator[](size_t i) const { return entries_.at(i); }
  // Index of a tensor by HF name, or -1.
  int index(std::string_view hf_name) const;
  // Replaces one tensor (same shape; f32/f16/bf16), e.g. after an optimizer step on a full fine-tune.
  void replace(size_t i, Tensor tensor);

 private:
  ModelConfig config_;
  std::string origin_;
  std::vector<WeightEntry> entries_;
};

// llama.cpp's convert script permutes each head's Q/K rows so adjacent pairs rotate together; this
// restores Hugging Face's rotate-half order. rows = heads × head_dim, each row `row_bytes` long.
Tensor unpermute_rope_rows(const Tensor& weight, int64_t heads);
// The inverse (HF → GGUF order), for writing llama-arch GGUF files and for tests.
Tensor permute_rope_rows(const Tensor& weight, int64_t heads);

}  // namespace slmtune
