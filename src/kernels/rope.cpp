#include "kernels/rope.hpp"

#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/rope_reference.hpp"
#include "kernels/simd_math.hpp"

namespace slmtune::kernels {
namespace {

// Llama 3.1: wavelengths longer than the original context / low_freq_factor are slowed by `factor`,
// shorter than context / high_freq_factor are kept, and the band between is interpolated.
void apply_llama3(const RopeConfig& config, std::vector<float>& inv_freq) {
  if (config.factor <= 0 || config.original_max_position_embeddings <= 0 ||
      config.high_freq_factor == config.low_freq_factor)
    fail("rope_scaling llama3: needs factor > 0, original_max_position_embeddings > 0 and "
         "high_freq_factor != low_freq_factor (got {}, {}, {}, {})",
         config.factor, config.original_max_position_embeddings, config.low_freq_factor, config.high_freq_factor);
  const double context = static_cast<double>(config.original_max_position_embeddings);
  const double low_freq_wavelen = context / config.low_freq_factor;
  const double high_freq_wavelen = context / config.high_freq_factor;
  for (float& f : inv_freq) {
    const double wavelen = 2.0 * std::numbers::pi / f;
    if (wavelen > low_freq_wavelen) {
      f = static_cast<float>(f / config.factor);
    } else if (wavelen >= high_freq_wavelen) {
      const double smooth = (context / wavelen - config.low_freq_factor) /
                            (config.high_freq_factor - config.low_freq_factor);
      f = static_cast<float>((1.0 - smooth) * f / config.factor + smooth * f);
    }
  }
}

// Phi-3 longrope: each frequency divided by its own factor (short or long list), and cos/sin scaled
// by sqrt(1 + ln(s)/ln(original context)) with s the context extension, unless the config says.
float apply_longrope(const RopeConfig& config, int64_t sequence_length, std::vector<float>& inv_freq) {
  const size_t half = inv_freq.size();
  if (config.original_max_position_embeddings <= 0)
    fail("rope_scaling longrope: original_max_position_embeddings must be > 0 (got {})",
         config.original_max_position_embeddings);
  if (config.short_factor.size() != half || config.long_factor.size() != half)
    fail("rope_scaling longrope: short_factor and long_factor need rotary_dim/2 = {} values (got {} and {})", half,
         config.short_factor.size(), config.long_factor.size());
  const bool is_long = sequence_length > config.original_max_position_embeddings;
  const std::vector<double>& factors = is_long ? config.long_factor : config.short_factor;
  for (size_t i = 0; i < half; ++i) {
    if (!(factors[i] > 0)) fail("rope_scaling longrope: factor {} is {}, expected > 0", i, factors[i]);
    inv_freq[i] = static_cast<float>(inv_freq[i] / factors[i]);
  }
  if (config.attention_factor) return static_cast<float>(*config.attention_factor);
  const double extension = config.max_position_embeddings > 0
                               ? static_cast<double>(config.max_position_embeddings) /
                                     static_cast<double>(config.original_max_position_embeddings)
                               : 1.0;
  if (extension <= 1.0) return 1.0f;
  return static_cast<float>(
      std::sqrt(1.0 + std::log(extension) / std::log(static_cast<double>(config.original_max_position_embeddings))));
}

SLMTUNE_TARGET_AVX2 void rope_rotate_avx2(float* out, const float* x, const int32_t* positions, int64_t tokens,
                                          int64_t heads, int64_t head_dim, int64_t rotary_dim, const float* cos_table,
                                          const float* sin_table, float sign) {
  const int64_t half = rotary_dim / 2;
  const __m256 vsign = _mm256_set1_ps(sign);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* c = cos_table + positions[t] * half;
    const float* s = sin_table + positions[t] * half;
    for (int64_t h = 0; h < heads; ++h) {
      const float* xh = x + (t * heads + h) * head_dim;
      float* oh = out + (t * heads + h) * head_dim;
      int64_t i = 0;
      for (; i + 8 <= half; i += 8) {
        const __m256 a = _mm256_loadu_ps(xh + i), b = _mm256_loadu_ps(xh + i + half);
        const __m256 ci = _mm256_loadu_ps(c + i), si = _mm256_mul_ps(vsign, _mm256_loadu_ps(s + i));
        _mm256_storeu_ps(oh + i, _mm256_fmsub_ps(a, ci, _mm256_mul_ps(b, si)));
        _mm256_storeu_ps(oh + i + half, _mm256_fmadd_ps(b, ci, _mm256_mul_ps(a, si)));
      }
      for (; i < half; ++i) {
        const float a = xh[i], b = xh[i + half], si = sign * s[i];
        oh[i] = a * c[i] - b * si;
        oh[i + half] = b * c[i] + a * si;
      }
      for (i = rotary_dim; i < head_dim; ++i) oh[i] = xh[i];
    }
  }
}

void rope_apply(float* out, const float* x, const int32_t* positions, int64_t tokens, int64_t heads, int64_t head_dim,
                const RopeTable& table, float sign) {
  if (table.rotary_dim <= 0 || table.rotary_dim > head_dim)
    fail("rope: rotary_dim {} does not fit head_dim {}", table.rotary_dim, head_dim);
  for (int64_t t = 0; t < tokens; ++t)
    if (positions[t] < 0 || positions[t] >= table.positions)
      fail("rope: token {} is at position {}, outside the table's {} positions", t, positions[t], table.positions);
  const bool avx2 = use_avx2();
  parallel_for(tokens, std::max<int64_t>(1, 4096 / std::max<int64_t>(heads * head_dim, 1)),
               [&](int64_t first, int64_t last) {
                 const int64_t offset = first * heads * head_dim;
                 if (avx2)
                   rope_rotate_avx2(out + offset, x + offset, positions + first, last - first, heads, head_dim,
                                    table.rotary_dim, table.cos.data(), table.sin.data(), sign);
                 else
                   reference::rope_rotate(out + offset, x + offset, positions + first, last - first, heads, head_dim,
                                          table.rotary_dim, table.cos.data(), table.sin.data(), sign);
               });
}

}  // namespace

RopeFrequencies rope_frequencies(const RopeConfig& config, int64_t sequence_length) {
  if (config.head_dim <= 0) fail("rope: head_dim must be > 0 (got {})", config.head_dim);
  if (!(config.theta > 0)) fail("rope: rope_theta must be > 0 (got {})", config.theta);
  if (!(config.partial_rotary_factor > 0 && config.partial_rotary_factor <= 1))
    fail("rope: partial_rotary_factor must be in (0, 1] (got {})", config.partial_rotary_factor);
  RopeFrequencies result;
  // int() truncation, as HF computes int(head_dim * partial_rotary_factor).
  result.rotary_dim = static_cast<int64_t>(static_cast<double>(config.head_dim) * config.partial_rotary_factor);
  if (result.rotary_dim < 2 || result.rotary_dim % 2 != 0)
    fail("rope: rotary dimension {} (head_dim {} x partial_rotary_factor {}) must be even and >= 2", result.rotary_dim,
         config.head_dim, config.partial_rotary_factor);
  const int64_t half = result.rotary_dim / 2;
  result.inv_freq.resize(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // HF forms the exponent and the power in f32; doing the same keeps the tables bit-close to its.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(result.rotary_dim);
    const float power = static_cast<float>(std::pow(config.theta, static_cast<double>(exponent)));
    result.inv_freq[static_cast<size_t>(i)] = 1.0f / power;
  }
  switch (config.scaling) {
    case RopeScaling::None:
      break;
    case RopeScaling::Linear:
      if (!(config.factor > 0)) fail("rope_scaling linear: factor must be > 0 (got {})", config.factor);
      for (float& f : result.inv_freq) f = static_cast<float>(f / config.factor);
      break;
    case RopeScaling::Llama3:
      apply_llama3(config, result.inv_freq);
      break;
    case RopeScaling::LongRope:
      result.attention_factor = apply_longrope(config, sequence_length, result.inv_freq);
      break;
  }
  return result;
}

RopeTable rope_table(const RopeFrequencies& frequencies, int64_t positions) {
  const int64_t half = static_cast<int64_t>(frequencies.inv_freq.size());
  if (half * 2 != frequencies.rotary_dim || positions < 0)
    fail("rope_table: {} frequencies for rotary_dim {} and {} positions", half, frequencies.rotary_dim, positions);
  RopeTable table;
  table.rotary_dim = frequencies.rotary_dim;
  table.positions = positions;
  table.cos.resize(static_cast<size_t>(positions * half));
  table.sin.resize(static_cast<size_t>(positions * half));
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * frequencies.inv_freq[static_cast<size_t>(i)];
      table.cos[static_cast<size_t>(p * half + i)] = static_cast<float>(std::cos(static_cast<double>(angle))) *
                                                     frequencies.attention_factor;
      table.sin[static_cast<size_t>(p * half + i)] = static_cast<float>(std::sin(static_cast<double>(angle))) *
                                                     frequencies.attention_factor;
    }
  return table;
}

void rope_forward(float* out, const float* x, const int32_t* positions, int64_t tokens, int64_t heads,
                  int64_t head_dim, const RopeTable& table) {
  rope_apply(out, x, positions, tokens, heads, head_dim, table, 1.0f);
}

void rope_backward(float* dx, const float* dout, const int32_t* positions, int64_t tokens, int64_t heads,
                   int64_t head_dim, const RopeTable& table) {
  rope_apply(dx, dout, positions, tokens, heads, head_dim, table, -1.0f);
}

}  // namespace slmtune::kernels
