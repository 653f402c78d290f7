// f16/bf16/f8 conversions checked against independent references: the processor's own F16C
// conversion instructions (IEEE round-to-nearest-even) and the definition of nearest-even rounding
// for bf16.
#include <gtest/gtest.h>
#include <cpuid.h>
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/half.hpp"

using namespace slmtune;

namespace {
// CPUID leaf 1, ECX bit 29 (clang 14's __builtin_cpu_supports does not know "f16c").
bool have_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
}

__attribute__((target("f16c"))) uint16_t reference_f16_bits(float value) {
  return static_cast<uint16_t>(_cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
__attribute__((target("f16c"))) float reference_f16_value(uint16_t bits) { return _cvtsh_ss(bits); }
}  // namespace

TEST(Half, EveryF16ValueWidensExactly) {
  if (!have_f16c()) GTEST_SKIP() << "no F16C instructions to compare against";
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const float ours = f16_to_f32(static_cast<uint16_t>(bits));
    const float reference = reference_f16_value(static_cast<uint16_t>(bits));
    if (std::isnan(reference)) {
      ASSERT_TRUE(std::isnan(ours)) << std::hex << bits;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(ours), std::bit_cast<uint32_t>(reference)) << std::hex << bits;
    }
  }
}

TEST(Half, NarrowingToF16RoundsToNearestEven) {
  if (!have_f16c()) GTEST_SKIP() << "no F16C instructions to compare against";
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any_bits;
  auto check = [](float value) {
    const uint16_t ours = f32_to_f16(value);
    if (std::isnan(value)) {
      EXPECT_EQ(ours & 0x7C00u, 0x7C00u);
      EXPECT_NE(ours & 0x03FFu, 0u);
      return;
    }
    ASSERT_EQ(ours, reference_f16_bits(value)) << value << " bits " << std::hex << std::bit_cast<uint32_t>(value);
  };
  for (int i = 0; i < 2000000; ++i) check(std::bit_cast<float>(any_bits(rng)));
  // Every tie and near-tie around every f16 value, including subnormals and the overflow edge.
  for (uint32_t bits = 0; bits < 0x7C00; ++bits) {
    const float low = reference_f16_value(static_cast<uint16_t>(bits));
    const float high = reference_f16_value(static_cast<uint16_t>(bits + 1));
    const float mid = (low + high) / 2;  // exact in f32
    for (float v : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f), low, -mid, -low}) check(v);
  }
  for (float v : {65504.0f, 65519.99f, 65520.0f, 1e9f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), 0.0f, -0.0f, 5.96e-8f, 2.98e-8f, 2.99e-8f})
    check(v);
  check(std::numeric_limits<float>::quiet_NaN());
}

TEST(Half, NarrowingToBf16IsNearestEven) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> any_bits;
  for (int i = 0; i < 2000000; ++i) {
    const float value = std::bit_cast<float>(any_bits(rng));
    const uint16_t ours = f32_to_bf16(value);
    if (std::isnan(value)) {
      ASSERT_TRUE(std::isnan(bf16_to_f32(ours)));
      continue;
    }
    // bf16 values are f32 values with the low 16 bits cleared: the two candidates bracket value.
    const uint32_t bits = std::bit_cast<uint32_t>(value);
    const uint32_t down = bits & 0xFFFF0000u;
    const uint32_t up = down + 0x10000u;
    const double exact = value;
    const double below = std::bit_cast<float>(down);
    // Past the largest finite value the next candidate is ±2^128 (IEEE rounds with an unbounded
    // exponent, then overflows to infinity).
    const bool up_is_infinite = (up & 0x7F800000u) == 0x7F800000u;
    const double above = up_is_infinite ? std::copysign(std::ldexp(1.0, 128), exact)
                                        : static_cast<double>(std::bit_cast<float>(up));
    const double distance_down = std::fabs(exact - below);
    const double distance_up = std::fabs(above - exact);
    uint16_t expected;
    if (distance_down < distance_up) expected = static_cast<uint16_t>(down >> 16);
    else if (distance_up < distance_down) expected = static_cast<uint16_t>(up >> 16);
    else expected = static_cast<uint16_t>(((down >> 16) & 1u) ? up >> 16 : down >> 16);
    ASSERT_EQ(ours, expected) << std::hex << bits;
  }
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80u);
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80u);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload sits only in the low bits must not become Inf.
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::bit_cast<float>(0x7F800001u)))));
}

TEST(Half, Float8Formats) {
  // Values from the OCP 8-bit floating point specification, table of E4M3/E5M2 encodings.
  EXPECT_EQ(f8_e4m3_to_f32(0x7E), 448.0f);        // largest E4M3 normal
  EXPECT_EQ(f8_e4m3_to_f32(0x08), 0.015625f);     // smallest normal 2^-6
  EXPECT_EQ(f8_e4m3_to_f32(0x01), 0.001953125f);  // smallest subnormal 2^-9
  EXPECT_EQ(f8_e4m3_to_f32(0xB8), -1.0f);
  EXPECT_TRUE(std::isnan(f8_e4m3_to_f32(0x7F)));
  EXPECT_EQ(f8_e5m2_to_f32(0x7B), 57344.0f);  // largest E5M2 normal
  EXPECT_EQ(f8_e5m2_to_f32(0x3C), 1.0f);
  EXPECT_TRUE(std::isinf(f8_e5m2_to_f32(0x7C)));
  EXPECT_TRUE(std::isnan(f8_e5m2_to_f32(0x7E)));
  EXPECT_EQ(f8_e5m2_to_f32(0x01), std::ldexp(1.0f, -16));
}
