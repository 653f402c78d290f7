#pragma once
// Rotary position embeddings in Hugging Face's rotate-half layout: within the first rotary_dim
// dimensions of a head, dimension i pairs with i + rotary_dim/2 (GGUF's llama files store Q/K rows
// permuted for the adjacent-pair layout; the model loader undoes that before these kernels see them).
#include <cstdint>
#include <optional>
#include <vector>

namespace slmtune::kernels {

enum class RopeScaling {
  None,
  Linear,    // positions divided by `factor`
  Llama3,    // Llama 3.1's wavelength-banded scaling
  LongRope,  // Phi-3's "longrope" (older configs: "su"): per-frequency short/long factors
};

// The rope settings of a model config (HF config.json names in comments).
struct RopeConfig {
  int64_t head_dim = 0;
  double partial_rotary_factor = 1.0;  // partial_rotary_factor (phi-2: 0.4)
  double theta = 10000.0;              // rope_theta
  RopeScaling scaling = RopeScaling::None;
  double factor = 1.0;                 // rope_scaling.factor (linear, llama3)
  double low_freq_factor = 1.0;        // rope_scaling.low_freq_factor (llama3)
  double high_freq_factor = 4.0;       // rope_scaling.high_freq_factor (llama3)
  // rope_scaling.original_max_position_embeddings (llama3) or the config's top-level field (longrope).
  int64_t original_max_position_embeddings = 0;
  int64_t max_position_embeddings = 0;  // longrope: with the original, gives the extension factor
  std::vector<double> short_factor, long_factor;  // longrope, rotary_dim/2 values each
  std::optional<double> attention_factor;          // longrope: rope_scaling.attention_factor if given
};

struct RopeFrequencies {
  int64_t rotary_dim = 0;
  std::vector<float> inv_freq;   // rotary_dim/2 inverse frequencies, after scaling
  float attention_factor = 1.0f;  // multiplies cos and sin (longrope's magnitude correction)
};

// inv_freq[i] = 1 / theta^(2i/rotary_dim), then scaled as configured. `sequence_length` matters only
// to longrope, which uses long_factor once a sequence is longer than the original context.
// Throws slmtune::Error on an inconsistent config (odd rotary_dim, factor lists of the wrong length…).
RopeFrequencies rope_frequencies(const RopeConfig& config, int64_t sequence_length);

// cos/sin of position·inv_freq for positions [0, positions), times the attention factor:
// [positions, rotary_dim/2] each. The angle is formed in f32 as HF does, so tables match its values.
struct RopeTable {
  int64_t rotary_dim = 0;
  int64_t positions = 0;
  std::vector<float> cos, sin;
};
RopeTable rope_table(const RopeFrequencies& frequencies, int64_t positions);

// x, out: [tokens, heads, head_dim]; token t sits at position positions[t]. Dimensions past
// rotary_dim pass through. out may alias x (in-place rotation of q and k). Positions outside the
// table throw slmtune::Error.
void rope_forward(float* out, const float* x, const int32_t* positions, int64_t tokens, int64_t heads,
                  int64_t head_dim, const RopeTable& table);
// The rotation's transpose: dx = Rᵀ·dout. Unlike most backward kernels it WRITES dx (the usual use is
// in place on dq/dk, which aliasing allows).
void rope_backward(float* dx, const float* dout, const int32_t* positions, int64_t tokens, int64_t heads,
                   int64_t head_dim, const RopeTable& table);

}  // namespace slmtune::kernels
