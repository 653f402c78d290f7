#pragma once
// Writes a Hugging Face model directory (config.json + model.safetensors) with freshly initialised
// weights, as transformers' _init_weights does: linear and embedding weights ~ N(0, 0.02), biases 0,
// norm weights 1. The starting point for pretraining and the weights of benchmarks and test fixtures.
#include <cstdint>
#include <filesystem>

#include "core/dtype.hpp"
#include "model/config.hpp"

namespace slmtune {

struct RandomInitOptions {
  DType dtype = DType::F32;
  uint64_t seed = 0;
  float init_std = 0.02f;
};

void write_random_model(const ModelConfig& config, const std::filesystem::path& dir, const RandomInitOptions& options);

}  // namespace slmtune
