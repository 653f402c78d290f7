#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "core/error.hpp"
#include "core/half.hpp"
#include "core/parallel.hpp"
#include "core/tensor.hpp"

using namespace slmtune;

TEST(Tensor, ZerosAndShape) {
  Tensor t = Tensor::zeros(DType::BF16, {3, 4});
  EXPECT_EQ(t.numel(), 12);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(shape_string(t.shape()), "[3, 4]");
  for (float v : t.to_f32_vector()) EXPECT_EQ(v, 0.0f);
}

// Tensors of 4 MiB and more take the huge-page allocation (2 MiB aligned, rounded up): still zeroed,
// writable to the last element, and freed with the matching deallocator (ASan checks the pairing).
TEST(Tensor, LargeTensorsAreZeroedAndAlignedForHugePages) {
  for (int64_t rows : {1024, 1025, 3000}) {
    Tensor t = Tensor::zeros(DType::F32, {rows, 1024});
    const float* values = t.as<float>();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(values) % (uintptr_t{2} << 20), 0u) << rows;
    EXPECT_TRUE(std::all_of(values, values + t.numel(), [](float v) { return v == 0.0f; })) << rows;
    t.as_mutable<float>()[t.numel() - 1] = 1.5f;
    EXPECT_EQ(t.as<float>()[t.numel() - 1], 1.5f);
  }
}

TEST(Tensor, CastRoundTripsThroughHalfTypes) {
  Tensor t = Tensor::zeros(DType::F32, {4});
  float* v = t.as_mutable<float>();
  v[0] = 1.0f;
  v[1] = -2.5f;
  v[2] = 1.0f / 3.0f;
  v[3] = 65504.0f;
  const Tensor h = t.cast(DType::F16);
  EXPECT_EQ(h.dtype(), DType::F16);
  const auto back = h.to_f32_vector();
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], -2.5f);
  EXPECT_EQ(back[2], 0.333251953125f);  // 0x3555, the f16 nearest to 1/3
  EXPECT_EQ(back[3], 65504.0f);
  const auto b = t.cast(DType::BF16).to_f32_vector();
  EXPECT_EQ(b[1], -2.5f);
  EXPECT_EQ(b[2], bf16_to_f32(f32_to_bf16(1.0f / 3.0f)));
}

TEST(Tensor, ViewsAreReadOnlyAndIntegersDoNotConvert) {
  std::vector<std::byte> bytes(8);
  auto owner = std::make_shared<int>(0);
  Tensor view = Tensor::view(DType::I32, {2}, bytes.data(), owner);
  EXPECT_THROW(view.mutable_data(), Error);
  EXPECT_THROW(view.to_f32_vector(), Error);
  EXPECT_THROW(Tensor::from_bytes(DType::F32, {3}, bytes), Error);
}

TEST(Parallel, CoversEveryIndexOnce) {
  set_threads(2);
  std::vector<std::atomic<int>> hits(1000);
  parallel_for(1000, 7, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) hits[i]++;
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_EQ(threads(), 2);
}
