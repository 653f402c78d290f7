// NF4 against its definition: the 16 code values are the normal-quantile construction of the QLoRA
// paper (bitsandbytes' create_normal_map, recomputed here from the normal CDF), the packing and the
// double-quantized statistics follow bitsandbytes' layout, and the NF4 linear layer equals a
// double-precision product with the de-quantized weight.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "quant/nf4.hpp"
#include "quant/nf4_linear.hpp"

using namespace slmtune;
using namespace slmtune::quant;

namespace {

// Φ⁻¹ by bisection on the CDF (only for the reference; 200 halvings reach double precision).
double normal_quantile(double p) {
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// QLoRA's NF4: 8 positive quantiles of N(0,1) from linspace(δ, ½, 9), 7 negative ones from
// linspace(δ, ½, 8), and an exact zero, normalised by the largest (δ = 0.9677083, bitsandbytes).
std::vector<double> reference_nf4() {
  const double offset = 0.9677083;
  std::vector<double> v;
  for (int i = 0; i < 8; ++i) v.push_back(normal_quantile(offset + (0.5 - offset) * i / 8.0));
  v.push_back(0.0);
  for (int i = 0; i < 7; ++i) v.push_back(-normal_quantile(offset + (0.5 - offset) * i / 7.0));
  double max = 0.0;
  for (double x : v) max = std::max(max, std::fabs(x));
  for (double& x : v) x /= max;
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<float> normal_values(int64_t count, uint32_t seed, float stddev = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = normal(rng);
  return v;
}

}  // namespace

TEST(Nf4, CodeValuesAreTheNormalQuantilesOfQLoRA) {
  const auto reference = reference_nf4();
  ASSERT_EQ(reference.size(), 16u);
  for (size_t i = 0; i < 16; ++i) EXPECT_NEAR(nf4_code()[i], reference[i], 2e-6) << "code " << i;
  EXPECT_EQ(nf4_code()[7], 0.0f);
  EXPECT_EQ(nf4_code()[0], -1.0f);
  EXPECT_EQ(nf4_code()[15], 1.0f);
}

TEST(Nf4, NearestCodeUsesTheMidpoints) {
  const auto& code = nf4_code();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(nearest_nf4(code[i]), i);
  for (int i = 0; i + 1 < 16; ++i) {
    const float mid = 0.5f * (code[i] + code[i + 1]);
    EXPECT_EQ(nearest_nf4(std::nextafter(mid, -2.0f)), i);
    EXPECT_EQ(nearest_nf4(std::nextafter(mid, 2.0f)), i + 1);
  }
  EXPECT_EQ(nearest_nf4(-5.0f), 0);
  EXPECT_EQ(nearest_nf4(5.0f), 15);
}

TEST(Nf4, DynamicMapIsBitsandbytesSignedMap) {
  const auto& map = dynamic_map();
  // Sorted, 0 and 1 present, every other value has its negative (the sign bit), extremes as in
  // create_dynamic_map: ±(1 − 0.9/128) at exponent 10⁰ and ±0.55·10⁻⁶ at the smallest exponent.
  for (size_t i = 1; i < map.size(); ++i) EXPECT_LT(map[i - 1], map[i]);
  EXPECT_EQ(map[255], 1.0f);
  EXPECT_NEAR(map[0], -0.99296875, 1e-7);
  EXPECT_NEAR(map[254], 0.99296875, 1e-7);
  int zeros = 0;
  for (float v : map) {
    if (v == 0.0f) ++zeros;
    if (v == 0.0f || v == 1.0f) continue;
    EXPECT_NE(std::find(map.begin(), map.end(), -v), map.end()) << v;
  }
  EXPECT_EQ(zeros, 1);
  const auto smallest = std::upper_bound(map.begin(), map.end(), 0.0f);
  EXPECT_NEAR(*smallest, 0.55e-6, 1e-12);
  // Exponent 10^-6+i holds 2^i fraction bins: 64 positive values in [0.1, 1).
  EXPECT_EQ(std::count_if(map.begin(), map.end(), [](float v) { return v >= 0.1f && v < 1.0f; }), 64);
}

TEST(Nf4, CodeValuesTimesScaleRoundTripExactlyAndPackHighNibbleFirst) {
  // One block of 64: every code value ×0.5, the block's absmax is 0.5.
  std::vector<float> values(64);
  for (int i = 0; i < 64; ++i) values[i] = nf4_code()[(i * 7) % 16] * 0.5f;
  const auto q = Nf4Tensor::quantize(values.data(), {8, 8}, /*double_quant=*/false);
  ASSERT_EQ(q.packed().size(), 32u);
  ASSERT_EQ(q.absmax().size(), 1u);
  EXPECT_EQ(q.absmax()[0], 0.5f);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(q.code_index(i), (i * 7) % 16);
  // Element 0 (code 0) in the high nibble, element 1 (code 7) in the low one.
  EXPECT_EQ(q.packed()[0], 0x07);
  EXPECT_EQ(q.packed()[1], ((14 << 4) | 5));
  EXPECT_EQ(q.dequantize(), values);
}

TEST(Nf4, BlocksOf64HaveTheirOwnAbsmax) {
  std::vector<float> values = normal_values(64 * 3 + 10, 1);  // a ragged last block
  for (int i = 64; i < 128; ++i) values[i] *= 100.0f;        // a block of much larger values
  const auto q = Nf4Tensor::quantize(values.data(), {static_cast<int64_t>(values.size())}, false);
  ASSERT_EQ(q.absmax().size(), 4u);
  for (int b = 0; b < 4; ++b) {
    float m = 0.0f;
    for (size_t i = b * 64; i < std::min<size_t>(values.size(), (b + 1) * 64); ++i) m = std::max(m, std::fabs(values[i]));
    EXPECT_EQ(q.absmax()[b], m) << "block " << b;
  }
  // Each value lands on the nearest code of its own block: error ≤ half the widest code gap × absmax.
  const auto back = q.dequantize();
  for (size_t i = 0; i < values.size(); ++i) {
    const float scale = q.absmax()[i / 64];
    EXPECT_LE(std::fabs(back[i] - values[i]), 0.5f * (1.0f - 0.7229568f) * scale * 1.0001f) << i;
    EXPECT_EQ(q.code_index(static_cast<int64_t>(i)), nearest_nf4(values[i] / scale)) << i;
  }
}

TEST(Nf4, DoubleQuantizationLayout) {
  const int64_t blocks = 600;  // three scale blocks of 256 (the last ragged)
  std::vector<float> values = normal_values(blocks * 64, 2);
  for (int64_t b = 0; b < blocks; ++b)
    for (int i = 0; i < 64; ++i) values[b * 64 + i] *= 1.0f + static_cast<float>(b % 17);
  const auto plain = Nf4Tensor::quantize(values.data(), {blocks, 64}, false);
  const auto q = Nf4Tensor::quantize(values.data(), {blocks, 64}, true);
  ASSERT_EQ(q.scale_codes().size(), static_cast<size_t>(blocks));
  ASSERT_EQ(q.scale_absmax().size(), 3u);
  EXPECT_TRUE(q.absmax().empty());
  double mean = 0.0;
  for (float m : plain.absmax()) mean += m;
  mean /= blocks;
  EXPECT_NEAR(q.scale_offset(), mean, 1e-6 * mean);
  for (int s = 0; s < 3; ++s) {
    float m = 0.0f;
    for (int64_t b = s * 256; b < std::min<int64_t>(blocks, (s + 1) * 256); ++b)
      m = std::max(m, std::fabs(plain.absmax()[b] - q.scale_offset()));
    EXPECT_FLOAT_EQ(q.scale_absmax()[s], m);
  }
  for (int64_t b = 0; b < blocks; ++b) {
    const float centred = (plain.absmax()[b] - q.scale_offset()) / q.scale_absmax()[b / 256];
    EXPECT_EQ(q.scale_codes()[b], nearest_dynamic(centred)) << b;
    // The 8-bit dynamic code keeps ~1% relative precision on the centred scale.
    EXPECT_NEAR(q.block_scale(b), plain.absmax()[b], 0.01 * q.scale_absmax()[b / 256]) << b;
  }
}

TEST(Nf4, BytesPerParameterIsAboutHalfAByte) {
  const std::vector<float> values = normal_values(576 * 1536, 3);
  const auto q = Nf4Tensor::quantize(values.data(), {1536, 576});
  // 0.5 (codes) + 1/64 (8-bit scales) + 4/16384 (second-level scales) + 4/numel (offset).
  const double expected = 0.5 + 1.0 / 64 + 4.0 / (64 * 256) + 4.0 / static_cast<double>(values.size());
  EXPECT_NEAR(q.bytes_per_parameter(), expected, 1e-4);
  EXPECT_LT(q.bytes_per_parameter(), 0.52);
  EXPECT_EQ(Nf4Tensor::quantize(values.data(), {1536, 576}, false).bytes_per_parameter(), 0.5 + 4.0 / 64);
}

TEST(Nf4, TileDequantizationEqualsWhole) {
  const std::vector<float> values = normal_values(1000, 4);
  const auto q = Nf4Tensor::quantize(values.data(), {10, 100});
  const auto whole = q.dequantize();
  std::vector<float> tile(137);
  q.dequantize(333, 137, tile.data());
  for (int i = 0; i < 137; ++i) EXPECT_EQ(tile[i], whole[333 + i]);
  EXPECT_THROW(q.dequantize(900, 101, tile.data()), Error);
}

TEST(Nf4, NonFiniteWeightsAreRefused) {
  std::vector<float> values(128, 0.1f);
  values[70] = NAN;
  try {
    Nf4Tensor::quantize(values.data(), {128});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("block 1"), std::string::npos) << e.what();
  }
}

TEST(Nf4Linear, ForwardAndInputGradientEqualTheDequantizedProduct) {
  // in = 100 (blocks straddle rows), out = 700 (several tiles). Two threads: 3 rows take the
  // column-split backward, 200 rows the row-split one.
  set_threads(2);
  for (const int64_t n : {int64_t{3}, int64_t{200}}) {
    const int64_t out = 700, in = 100;
    const auto weights = normal_values(out * in, 5);
    const auto q = Nf4Tensor::quantize(weights.data(), {out, in});
    const auto w = q.dequantize();
    const auto x = normal_values(n * in, 6, 1.0f);
    const auto dy = normal_values(n * out, 7, 1.0f);
    const auto bias = normal_values(out, 8, 1.0f);
    std::vector<float> y(n * out);
    nf4_linear_forward(y.data(), x.data(), q, bias.data(), n);
    std::vector<float> dx(n * in, 1.0f);  // the gradient is added
    nf4_linear_backward_input(dx.data(), dy.data(), q, n);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t o = 0; o < out; ++o) {
        double want = bias[o];
        for (int64_t k = 0; k < in; ++k) want += static_cast<double>(x[i * in + k]) * w[o * in + k];
        EXPECT_NEAR(y[i * out + o], want, 1e-5) << i << "," << o;
      }
      for (int64_t k = 0; k < in; ++k) {
        double want = 1.0;
        for (int64_t o = 0; o < out; ++o) want += static_cast<double>(dy[i * out + o]) * w[o * in + k];
        EXPECT_NEAR(dx[i * in + k], want, 1e-4) << i << "," << k;
      }
    }
  }
}
