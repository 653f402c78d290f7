#pragma once
// The one table of every tensor a model of each family holds: its Hugging Face name (what PyTorch's
// state_dict() shows), its GGUF name (what llama.cpp writes), its shape, what it is for, and, for the
// linear layers, the short module name PEFT's target_modules takes. Loading, inspection, LoRA targeting
// and export all read this table, so the names cannot drift apart.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "model/config.hpp"

namespace slmtune {

enum class TensorKind { Embedding, Attention, Mlp, Norm, Output };
std::string_view tensor_kind_name(TensorKind kind);  // "embeddings", "attention", "mlp", "norms", "output"

struct TensorSpec {
  std::string hf_name;    // model.layers.0.self_attn.q_proj.weight
  std::string gguf_name;  // blk.0.attn_q.weight
  Shape shape;            // PyTorch order: [out_features, in_features] for a linear weight
  TensorKind kind;
  std::string linear_name;  // "q_proj" for a linear layer's weight, empty otherwise
  int64_t layer = -1;       // block index, -1 outside the blocks
};

// Every tensor the config implies, in Hugging Face's module order.
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);
// The linear modules' short names (PEFT target_modules candidates), in module order.
std::vector<std::string> linear_module_names(const ModelConfig& config);
int64_t expected_parameter_count(const ModelConfig& config);

// Checks that every expected tensor exists with its shape. `shape_of` answers for a name (HF names, or
// GGUF names when `gguf_names`), nullopt when absent. Fails with one line naming the first missing or
// mis-shaped tensor; returns the names present that the table does not know (warned about by callers).
std::vector<std::string> check_tensors(const ModelConfig& config,
                                       const std::function<std::optional<Shape>(const std::string&)>& shape_of,
                                       const std::vector<std::string>& present_names, const std::string& origin,
                                       bool gguf_names);

}  // namespace slmtune
