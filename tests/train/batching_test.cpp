#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "train/batching.hpp"

using namespace slmtune::train;

TEST(Batching, RightPaddingMasksPadsNotEos) {
  // pad == eos == 2: the real EOS keeps its label, the padding after it gets none.
  Sample a{{1, 5, 6, 2}, {-100, -100, 6, 2}};
  Sample b{{1, 7}, {-100, 7}};
  const Sample* rows[] = {&a, &b};
  const slmtune::Batch batch = make_padded_batch(rows, 2);
  EXPECT_EQ(batch.batch_size, 2);
  EXPECT_EQ(batch.seq_len, 4);
  EXPECT_EQ(batch.input_ids, (std::vector<int32_t>{1, 5, 6, 2, 1, 7, 2, 2}));
  EXPECT_EQ(batch.attention_mask, (std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(batch.labels, (std::vector<int32_t>{-100, -100, 6, 2, -100, 7, -100, -100}));
  EXPECT_TRUE(batch.position_ids.empty());
  EXPECT_THROW(make_padded_batch(std::span<const Sample* const>{}, 0), slmtune::Error);
}

TEST(DataOrder, EachEpochIsAPermutationAndSeedsDiffer) {
  DataOrder order(10, 42);
  std::vector<size_t> first = order.next(10);
  std::set<size_t> seen(first.begin(), first.end());
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(order.epoch(), 0);
  std::vector<size_t> second = order.next(10);
  EXPECT_EQ(order.epoch(), 1);
  EXPECT_EQ(std::set<size_t>(second.begin(), second.end()).size(), 10u);
  EXPECT_NE(first, second);
  DataOrder again(10, 42), other(10, 43);
  EXPECT_EQ(again.next(10), first);
  EXPECT_NE(other.next(10), first);
  DataOrder plain(4, 1, false);
  EXPECT_EQ(plain.next(6), (std::vector<size_t>{0, 1, 2, 3, 0, 1}));
}

TEST(DataOrder, SavedStateResumesTheSameSequence) {
  DataOrder straight(7, 9);
  std::vector<size_t> expected = straight.next(3);
  const DataOrder::State saved = straight.state();
  const std::vector<size_t> tail = straight.next(20);  // crosses two epochs

  DataOrder resumed(7, 12345);  // another seed: the restored state must win
  resumed.restore(saved);
  EXPECT_EQ(resumed.next(20), tail);
  DataOrder wrong(8, 9);
  EXPECT_THROW(wrong.restore(saved), slmtune::Error);
}
