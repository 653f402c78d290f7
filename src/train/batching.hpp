#pragma once
// Samples → model batches, and the seeded order in which samples are visited.
//
// Padding is on the right: padded positions get the pad id, attention_mask 0 and label -100, so
// a pad id equal to EOS never masks the real EOS (masks come from positions, not ids).
//
// Packing puts several samples into one row, each its own segment (Batch::segment_ids): attention
// is block-diagonal causal, positions restart per sample and no target crosses from one sample into
// the next, so a packed sample computes exactly what it computes alone, with less padding.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.hpp"
#include "model/transformer.hpp"
#include "train/samples.hpp"

namespace slmtune::train {

// All samples padded to the longest one.
Batch make_padded_batch(std::span<const Sample* const> samples, int32_t pad_id);

// Samples packed greedily, in order, into rows of at most max_len tokens: a sample that does not fit
// in the current row starts the next one. Segment ids count the samples of a row from 0; the row's
// tail is padding (pad id, mask 0, label -100, segment -1). seq_len is the fullest row's length. A
// sample longer than max_len is an error (truncation belongs before batching).
Batch make_packed_batch(std::span<const Sample* const> samples, int64_t max_len, int32_t pad_id);

// A shuffled pass over n samples per epoch, drawn from a seeded Rng. Its full state (Rng, epoch,
// cursor, the current permutation's seed) can be saved and restored, so a resumed run visits the
// same samples in the same order.
class DataOrder {
 public:
  struct State {
    std::array<uint64_t, 4> rng{};
    int64_t epoch = 0;
    uint64_t cursor = 0;
    std::vector<uint32_t> order;
  };

  DataOrder(size_t sample_count, uint64_t seed, bool shuffle = true);
  // The next `count` sample indices; crosses into a new epoch (a new permutation) when needed.
  std::vector<size_t> next(size_t count);
  int64_t epoch() const { return state_.epoch; }
  const State& state() const { return state_; }
  void restore(const State& state);  // fails when it belongs to a dataset of another size

 private:
  void start_epoch();

  size_t count_;
  bool shuffle_;
  Rng rng_;
  State state_;
};

}  // namespace slmtune::train
