#pragma once
// A GGUF file's `general.architecture` and `<arch>.*` keys mapped onto the same ModelConfig that
// config.json gives, so everything downstream treats both sources alike.
#include "formats/gguf.hpp"
#include "model/config.hpp"

namespace slmtune {

// GGUF architecture names slmtune reads ("llama", "qwen2", "phi3", "phi2").
const std::vector<std::string>& supported_gguf_architectures();
ModelConfig model_config_from_gguf(const gguf::File& file);

}  // namespace slmtune
