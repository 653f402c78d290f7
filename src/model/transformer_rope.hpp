#pragma once
// ModelConfig's rope settings in the form the RoPE kernel takes.
#include "kernels/rope.hpp"
#include "model/config.hpp"

namespace slmtune {

kernels::RopeConfig rope_config_of(const ModelConfig& config);

}  // namespace slmtune
