// make_packed_batch: greedy packing in order, one segment per sample, positions restarting per
// sample, padding only at a row's end, and a clear error for a sample longer than a row.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "train/batching.hpp"

using namespace slmtune::train;

TEST(PackedBatch, GreedyInOrderWithSegmentsPositionsAndPadding) {
  Sample a{{1, 5, 6, 2}, {-100, -100, 6, 2}};
  Sample b{{1, 7, 2}, {-100, 7, 2}};
  Sample c{{1, 8, 9, 9, 2}, {-100, 8, 9, 9, 2}};
  Sample d{{3}, {3}};
  const Sample* samples[] = {&a, &b, &c, &d};
  // max_len 8: a+b fill 7 (c does not fit: new row), c+d fill 6.
  const slmtune::Batch batch = make_packed_batch(samples, 8, 0);
  EXPECT_EQ(batch.batch_size, 2);
  EXPECT_EQ(batch.seq_len, 7);
  EXPECT_EQ(batch.input_ids, (std::vector<int32_t>{1, 5, 6, 2, 1, 7, 2, /**/ 1, 8, 9, 9, 2, 3, 0}));
  EXPECT_EQ(batch.labels, (std::vector<int32_t>{-100, -100, 6, 2, -100, 7, 2, /**/ -100, 8, 9, 9, 2, 3, -100}));
  EXPECT_EQ(batch.attention_mask, (std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(batch.segment_ids, (std::vector<int32_t>{0, 0, 0, 0, 1, 1, 1, /**/ 0, 0, 0, 0, 0, 1, -1}));
  EXPECT_EQ(batch.position_ids, (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2, /**/ 0, 1, 2, 3, 4, 0, 0}));
}

TEST(PackedBatch, ASampleThatFillsARowExactlyAndOneTooLong) {
  Sample a{{1, 2, 3}, {1, 2, 3}};
  Sample b{{4, 5}, {4, 5}};
  const Sample* fit[] = {&a, &b};
  const slmtune::Batch batch = make_packed_batch(fit, 3, 0);
  EXPECT_EQ(batch.batch_size, 2);
  EXPECT_EQ(batch.segment_ids, (std::vector<int32_t>{0, 0, 0, 0, 0, -1}));
  const Sample* too_long[] = {&b, &a};
  try {
    make_packed_batch(too_long, 2, 0);
    FAIL() << "expected an error";
  } catch (const slmtune::Error& e) {
    EXPECT_STREQ(e.what(), "sample 1 of the batch has 3 tokens, more than the packed row length 2 (truncate it first)");
  }
  EXPECT_THROW(make_packed_batch(std::span<const Sample* const>{}, 4, 0), slmtune::Error);
  EXPECT_THROW(make_packed_batch(fit, 0, 0), slmtune::Error);
}
