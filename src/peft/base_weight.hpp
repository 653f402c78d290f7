#pragma once
// Read access to a frozen base weight [out, in] a block of rows at a time in f32, whatever its
// stored form (f32/f16/bf16 in ModelWeights, or NF4): what DoRA needs for its row norms and its
// base-direction term without an f32 copy of the whole matrix.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/weights.hpp"
#include "quant/nf4.hpp"

namespace slmtune::peft {

struct BaseWeight {
  int64_t rows = 0;  // out features
  int64_t cols = 0;  // in features
  // Writes rows [first, first + count) into out[count, cols].
  std::function<void(int64_t first, int64_t count, float* out)> read_rows;
};

// The weight `hf_name` ("model.layers.0.self_attn.q_proj.weight"), read from its stored dtype.
BaseWeight base_weight(std::shared_ptr<const ModelWeights> weights, const std::string& hf_name);
BaseWeight base_weight(std::shared_ptr<const quant::Nf4Tensor> weight);
// An f32 matrix owned by the caller-supplied shared vector (tests, merged weights).
BaseWeight base_weight(std::shared_ptr<const std::vector<float>> weight, int64_t rows, int64_t cols);

}  // namespace slmtune::peft
