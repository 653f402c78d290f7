#include "kernels/rope.hpp"

#include <numbers>

#include "core/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/rope_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(Rope, InverseFrequenciesFollowTheta) {
  RopeConfig config;
  config.head_dim = 64;
  const RopeFrequencies f = rope_frequencies(config, 0);
  ASSERT_EQ(f.rotary_dim, 64);
  ASSERT_EQ(f.inv_freq.size(), 32u);
  for (size_t i = 0; i < 32; ++i) EXPECT_NEAR(f.inv_freq[i], std::pow(10000.0, -2.0 * i / 64), 1e-7 * f.inv_freq[i]);
  EXPECT_EQ(f.attention_factor, 1.0f);
}

// HF: q_embed = q·cos + rotate_half(q)·sin, with cos = cat(cos(p·inv_freq), cos(p·inv_freq)) and
// rotate_half(q) = cat(−q[h:], q[:h]); written out here with whole-vector operations.
std::vector<double> hf_rotate(const std::vector<double>& q, const std::vector<float>& inv_freq, int32_t position,
                              double attention_factor = 1.0) {
  const size_t half = inv_freq.size(), rotary = 2 * half;
  std::vector<double> cos_full(rotary), sin_full(rotary), rotated(rotary), result(q);
  for (size_t i = 0; i < rotary; ++i) {
    const double angle = double(float(position) * inv_freq[i % half]);
    cos_full[i] = std::cos(angle) * attention_factor;
    sin_full[i] = std::sin(angle) * attention_factor;
    rotated[i] = i < half ? -q[i + half] : q[i - half];
  }
  for (size_t i = 0; i < rotary; ++i) result[i] = q[i] * cos_full[i] + rotated[i] * sin_full[i];
  return result;
}

TEST(Rope, ForwardMatchesHuggingFaceFormula) {
  RopeConfig config;
  config.head_dim = 20;
  config.theta = 500.0;
  const RopeFrequencies f = rope_frequencies(config, 0);
  const RopeTable table = rope_table(f, 50);
  const int64_t tokens = 3, heads = 2;
  const std::vector<int32_t> positions{0, 7, 49};
  const auto x = f32_exact(random_doubles(tokens * heads * 20, 1));
  for_each_path([&](const std::string& path) {
    std::vector<float> y = to_float(x);
    rope_forward(y.data(), y.data(), positions.data(), tokens, heads, 20, table);  // in place
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t offset = (t * heads + h) * 20;
        const std::vector<double> head(x.begin() + offset, x.begin() + offset + 20);
        expect_close(y.data() + offset, hf_rotate(head, f.inv_freq, positions[t]).data(), 20, 1e-6, 1e-6,
                     path + " token " + std::to_string(t));
      }
  });
}

TEST(Rope, PartialRotaryLeavesTheRestUntouched) {
  // phi-2: partial_rotary_factor 0.4 of head_dim 80 rotates 32 dimensions; here 0.4 of 20 → 8.
  RopeConfig config;
  config.head_dim = 20;
  config.partial_rotary_factor = 0.4;
  const RopeFrequencies f = rope_frequencies(config, 0);
  ASSERT_EQ(f.rotary_dim, 8);
  EXPECT_NEAR(f.inv_freq[1], std::pow(10000.0, -2.0 / 8), 1e-8);
  const RopeTable table = rope_table(f, 10);
  const std::vector<int32_t> positions{9};
  const auto x = f32_exact(random_doubles(20, 2));
  for_each_path([&](const std::string& path) {
    const auto xf = to_float(x);
    std::vector<float> y(20);
    rope_forward(y.data(), xf.data(), positions.data(), 1, 1, 20, table);
    expect_close(y, hf_rotate(x, f.inv_freq, 9), 1e-6, 1e-6, path);
    for (int i = 8; i < 20; ++i) EXPECT_EQ(y[i], xf[i]) << path;
  });
}

TEST(Rope, BackwardMatchesFiniteDifferences) {
  RopeConfig config;
  config.head_dim = 6;
  const RopeTable table = rope_table(rope_frequencies(config, 0), 8);
  const std::vector<int32_t> positions{1, 5};
  std::vector<double> x = random_doubles(2 * 2 * 6, 3);
  const auto probe = random_doubles(x.size(), 4);
  auto loss = [&] {
    std::vector<double> y(x.size());
    reference::rope_rotate(y.data(), x.data(), positions.data(), 2, 2, 6, 6, table.cos.data(), table.sin.data(), 1.0);
    return weighted_sum(y, probe);
  };
  std::vector<double> dx(x.size());
  reference::rope_rotate(dx.data(), probe.data(), positions.data(), 2, 2, 6, 6, table.cos.data(), table.sin.data(),
                         -1.0);
  expect_gradient(x, loss, dx, "dx");
  // And the kernel's backward is that same transpose.
  for_each_path([&](const std::string& path) {
    const auto probef = to_float(probe);
    std::vector<float> dxf(x.size());
    rope_backward(dxf.data(), probef.data(), positions.data(), 2, 2, 6, table);
    expect_close(dxf, dx, 1e-6, 1e-6, path);
  });
}

TEST(Rope, FastPathMatchesReference) {
  RopeConfig config;
  config.head_dim = 64;
  const RopeTable table = rope_table(rope_frequencies(config, 0), 300);
  const int64_t tokens = 41, heads = 3;
  std::vector<int32_t> positions(tokens);
  for (int64_t t = 0; t < tokens; ++t) positions[t] = static_cast<int32_t>(t * 7 % 300);
  const auto x = f32_exact(random_doubles(tokens * heads * 64, 5));
  std::vector<double> y(x.size()), dx(x.size());
  reference::rope_rotate(y.data(), x.data(), positions.data(), tokens, heads, 64, 64, table.cos.data(),
                         table.sin.data(), 1.0);
  reference::rope_rotate(dx.data(), x.data(), positions.data(), tokens, heads, 64, 64, table.cos.data(),
                         table.sin.data(), -1.0);
  for_each_path([&](const std::string& path) {
    const auto xf = to_float(x);
    std::vector<float> yf(x.size()), dxf(x.size());
    rope_forward(yf.data(), xf.data(), positions.data(), tokens, heads, 64, table);
    rope_backward(dxf.data(), xf.data(), positions.data(), tokens, heads, 64, table);
    expect_close(yf, y, 1e-6, 1e-6, path + " forward");
    expect_close(dxf, dx, 1e-6, 1e-6, path + " backward");
  });
}

TEST(Rope, Llama3ScalingMatchesPublishedFormula) {
  // Llama 3.1 8B: rope_theta 500000, head_dim 128, factor 8, low_freq_factor 1, high_freq_factor 4,
  // original_max_position_embeddings 8192. Expected values from Meta's apply_scaling formula
  // evaluated in double precision (Python): high frequencies kept, low ones divided by 8, the band
  // with wavelength in [2048, 8192] interpolated.
  RopeConfig config;
  config.head_dim = 128;
  config.theta = 500000.0;
  config.scaling = RopeScaling::Llama3;
  config.factor = 8.0;
  config.low_freq_factor = 1.0;
  config.high_freq_factor = 4.0;
  config.original_max_position_embeddings = 8192;
  const RopeFrequencies f = rope_frequencies(config, 0);
  const std::vector<std::pair<int, double>> expected{
      {0, 1.0},
      {28, 0.0032114459947525913},     // wavelength 1956: kept
      {29, 0.002166570763503359},      // 2402: interpolated
      {32, 0.0005248461609929547},     // 4443: interpolated
      {35, 9.556212353964683e-05},     // 8219: divided by 8
      {63, 3.068925988914511e-07},
  };
  for (const auto& [index, value] : expected) EXPECT_NEAR(f.inv_freq[index], value, 2e-6 * value) << index;
  EXPECT_EQ(f.attention_factor, 1.0f);
}

TEST(Rope, LongRopePicksFactorsBySequenceLengthAndScalesMagnitude) {
  // Phi-3-mini-128k's geometry: 131072 positions over an original 4096, so the attention factor is
  // sqrt(1 + ln 32 / ln 4096) = sqrt(1 + 5/12).
  RopeConfig config;
  config.head_dim = 8;
  config.scaling = RopeScaling::LongRope;
  config.original_max_position_embeddings = 4096;
  config.max_position_embeddings = 131072;
  config.short_factor = {1.0, 1.5, 2.0, 4.0};
  config.long_factor = {2.0, 3.0, 8.0, 16.0};
  const RopeFrequencies short_f = rope_frequencies(config, 4096);
  const RopeFrequencies long_f = rope_frequencies(config, 4097);
  for (int i = 0; i < 4; ++i) {
    const double base = std::pow(10000.0, -2.0 * i / 8);
    EXPECT_NEAR(short_f.inv_freq[i], base / config.short_factor[i], 1e-7 * base) << i;
    EXPECT_NEAR(long_f.inv_freq[i], base / config.long_factor[i], 1e-7 * base) << i;
  }
  EXPECT_NEAR(short_f.attention_factor, std::sqrt(1.0 + 5.0 / 12.0), 1e-6);
  // The table folds the factor into cos and sin, as HF multiplies them by attention_scaling.
  const RopeTable table = rope_table(long_f, 3);
  const std::vector<int32_t> positions{2};
  const auto x = f32_exact(random_doubles(8, 6));
  std::vector<float> y(8);
  rope_forward(y.data(), to_float(x).data(), positions.data(), 1, 1, 8, table);
  expect_close(y, hf_rotate(x, long_f.inv_freq, 2, long_f.attention_factor), 1e-6, 1e-6, "scaled rotation");
  config.attention_factor = 1.25;
  EXPECT_EQ(rope_frequencies(config, 10).attention_factor, 1.25f);
}

TEST(Rope, RejectsBadConfigsAndPositions) {
  RopeConfig config;
  config.head_dim = 10;
  config.partial_rotary_factor = 0.3;  // 3 dimensions: odd
  EXPECT_THROW(rope_frequencies(config, 0), Error);
  config.partial_rotary_factor = 1.0;
  config.scaling = RopeScaling::LongRope;
  config.original_max_position_embeddings = 16;
  config.short_factor = {1.0};
  EXPECT_THROW(rope_frequencies(config, 0), Error);
  config.scaling = RopeScaling::None;
  const RopeTable table = rope_table(rope_frequencies(config, 0), 4);
  std::vector<float> x(10);
  const std::vector<int32_t> beyond{4};
  EXPECT_THROW(rope_forward(x.data(), x.data(), beyond.data(), 1, 1, 10, table), Error);
}

}  // namespace
}  // namespace slmtune::kernels
