#pragma once
// Everything `slmtune inspect` says about a model's weights, gathered from file headers only (no
// tensor data is read), from a Hugging Face directory (safetensors, single or sharded) or a GGUF file.
#include <filesystem>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"

namespace slmtune {

struct TensorFact {
  std::string name;
  Shape shape;
  std::string dtype;  // "BF16", "F32", "Q4_K"…
};

struct ParameterCount {
  std::string kind;  // embeddings, attention, mlp, norms, output, other
  int64_t count = 0;
};

struct LoraTargetGroup {
  std::string short_name;             // what PEFT's target_modules takes: "q_proj"
  std::vector<std::string> modules;   // full module names: model.layers.0.self_attn.q_proj
  Shape shape;                        // of one weight: [out, in]
};

struct ModelReport {
  std::filesystem::path source;
  std::string format;  // "huggingface" or "gguf"
  ModelConfig config;
  std::vector<TensorFact> tensors;  // file order (shard by shard)
  std::vector<std::string> dtypes;  // distinct storage dtypes, in order of first appearance
  int64_t total_parameters = 0;
  std::vector<ParameterCount> parameters_by_kind;
  std::vector<LoraTargetGroup> lora_targets;
  std::vector<std::string> unknown_tensors;  // present but not in the architecture table
  size_t file_count = 1;
};

// A Hugging Face directory or a .gguf file. Fails with one line on a missing path, a directory without
// config.json, an unsupported or refused architecture, or a tensor missing or of the wrong shape.
ModelReport inspect_model(const std::filesystem::path& path);

}  // namespace slmtune
