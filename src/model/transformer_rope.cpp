#include "model/transformer_rope.hpp"

#include "core/error.hpp"

namespace slmtune {

kernels::RopeConfig rope_config_of(const ModelConfig& config) {
  kernels::RopeConfig rope;
  rope.head_dim = config.head_dim;
  rope.partial_rotary_factor = config.partial_rotary_factor;
  rope.theta = config.rope_theta;
  rope.max_position_embeddings = config.max_position_embeddings;
  if (!config.rope_scaling) return rope;
  const RopeScaling& scaling = *config.rope_scaling;
  rope.factor = scaling.factor;
  rope.original_max_position_embeddings = scaling.original_max_position_embeddings;
  if (scaling.type == "llama3") {
    rope.scaling = kernels::RopeScaling::Llama3;
    rope.low_freq_factor = scaling.low_freq_factor;
    rope.high_freq_factor = scaling.high_freq_factor;
  } else if (scaling.type == "longrope") {
    rope.scaling = kernels::RopeScaling::LongRope;
    rope.short_factor = scaling.short_factor;
    rope.long_factor = scaling.long_factor;
  } else if (scaling.type == "linear") {
    rope.scaling = kernels::RopeScaling::Linear;
  } else {
    // dynamic NTK and YaRN change the frequencies with the sequence in ways the kernel does not model.
    fail("{}: rope_scaling type '{}' is not supported by the transformer (llama3, longrope, linear)",
         config.architecture, scaling.type);
  }
  return rope;
}

}  // namespace slmtune
