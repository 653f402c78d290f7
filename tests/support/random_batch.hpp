#pragma once
// A seeded batch of random token ids for tests that run a transformer (model, peft, train suites).
#include <cstdint>
#include <random>

#include "model/transformer.hpp"

namespace slmtune::testing {

// Seeded random token ids, labels = the ids (every position predicts the next).
inline Batch random_batch(int64_t vocab, int64_t batch_size, int64_t seq_len, uint32_t seed) {
  std::mt19937 rng(seed);
  Batch batch;
  batch.batch_size = batch_size;
  batch.seq_len = seq_len;
  for (int64_t i = 0; i < batch_size * seq_len; ++i)
    batch.input_ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab)));
  batch.labels = batch.input_ids;
  return batch;
}

}  // namespace slmtune::testing
