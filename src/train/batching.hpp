#pragma once
// Samples → model batches, and the seeded order in which samples are visited.
//
// Padding is on the right: padded positions get the pad id, attention_mask 0 and label -100, so
// a pad id equal to EOS never masks the real EOS (masks come from positions, not ids).
//
// Packing several samples into one row is NOT offered yet: the attention kernel takes a causal
// mask plus a key padding mask only, so tokens of a packed sample would attend to the samples
// before it. Packing stays disabled until attention accepts per-row segment ids (block-diagonal
// causal masks); see docs/config.md.
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
