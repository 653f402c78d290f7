#pragma once
// A model's named weights in one table (llm.c style): one entry per tensor of architecture.hpp's
// table, kept in its stored dtype (f32/f16/bf16) as a zero-copy view of the mapped file. The few
// exceptions own their memory: GGUF llama-arch Q/K rows (un-permuted from llama.cpp's adjacent-pair
// RoPE layout back to Hugging Face's rotate-half layout) and an f32 copy of every 1-D tensor (norms
// and biases), because the kernels take those as float pointers.
//
// Two conversions change an entry's storage in place:
// - trainable_values(i) (full fine-tuning) makes `tensor` an owned f32 copy private to this
//   ModelWeights (copying a ModelWeights copies it, so a snapshot never aliases the live weights) and
//   hands out its values; the kernels read exactly those floats on the next forward.
// - quantize_linears_nf4() (QLoRA) replaces the blocks' linear weights by NF4 with double
//   quantization and drops the original view, so the f32/bf16 pages leave memory.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.hpp"
#include "kernels/matmul.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"

namespace slmtune::quant {
class Nf4Tensor;
}

namespace slmtune {

struct WeightEntry {
  TensorSpec spec;          // HF name, GGUF name, shape, kind, layer
  Tensor tensor;            // stored dtype; a view of the file or owned; empty once in NF4
  std::vector<float> f32;   // 1-D tensors only: the values in f32 (empty once writable: see below)
  // Set by quantize_linears_nf4(): the weight in NF4 (then `tensor` is empty and matrix() refuses).
  std::shared_ptr<const quant::Nf4Tensor> nf4;
  // Set by trainable_values(): `tensor` is owned f32 storage private to this ModelWeights and the only
  // copy of the values (1-D entries too: `f32` is cleared and vector() reads `tensor`).
  bool writable = false;
  DType stored_dtype = DType::F32;  // the dtype the source file stored (what save_hf_model writes)

  kernels::WeightMatrix matrix() const;  // for 2-D tensors not in NF4
  const float* vector() const {
    if (!f32.empty()) return f32.data();
    return writable && tensor.rank() == 1 ? tensor.as<float>() : nullptr;
  }
  bool is_nf4() const { return nf4 != nullptr; }
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

  // Full fine-tuning: converts entry i (once) to owned f32 and returns the values the kernels read, so
  // an optimizer updating the span in place changes the next forward. The span stays valid until
  // replace(i) or the ModelWeights is destroyed. Refused for an NF4 entry (a QLoRA base is frozen).
  std::span<float> trainable_values(size_t i);

  // QLoRA: every 2-D linear weight of the blocks (not the embedding, not lm_head, which
  // bitsandbytes/PEFT leave unquantized) becomes NF4 with double quantization, computed from its
  // current values; the original storage is released. Idempotent. Returns the bytes the NF4 weights
  // and their statistics hold.
  int64_t quantize_linears_nf4();
  // Number and bytes of the parameters in NF4 (0, 0 before quantize_linears_nf4).
  int64_t nf4_parameters() const;
  int64_t nf4_bytes() const;

  ModelWeights() = default;
  // Copies share read-only views and NF4 data, but each copy owns its writable entries' values.
  ModelWeights(const ModelWeights& other);
  ModelWeights& operator=(const ModelWeights& other);
  ModelWeights(ModelWeights&&) noexcept = default;
  ModelWeights& operator=(ModelWeights&&) noexcept = default;

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

// Writes `weights` as a Hugging Face model directory: config.json and model.safetensors (created or
// replaced atomically, each). Every tensor is stored in its source dtype (stored_dtype; NF4 entries
// de-quantized) or, with `as_f32`, in f32; a tied model writes no lm_head. What a full fine-tune saves.
void save_hf_model(const ModelWeights& weights, const std::filesystem::path& dir, bool as_f32 = false);

}  // namespace slmtune
