#pragma once
// Named model shapes: the real small models slmtune targets (for benchmarks with random weights) and
// tiny ones of each family (for tests, demos and the bundled model's starting point).
#include <string>
#include <vector>

#include "model/config.hpp"

namespace slmtune {

struct ModelPreset {
  std::string name;
  std::string description;
  ModelConfig config;
};

const std::vector<ModelPreset>& model_presets();
// Throws listing the preset names when `name` is unknown.
const ModelPreset& find_model_preset(const std::string& name);

}  // namespace slmtune
