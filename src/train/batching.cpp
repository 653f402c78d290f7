#include "train/batching.hpp"

#include <algorithm>
#include <numeric>

#include "core/error.hpp"

namespace slmtune::train {

Batch make_padded_batch(std::span<const Sample* const> samples, int32_t pad_id) {
  if (samples.empty()) fail("a batch needs at least one sample");
  size_t longest = 0;
  for (const Sample* s : samples) {
    if (s->ids.size() != s->labels.size()) fail("sample with {} ids but {} labels", s->ids.size(), s->labels.size());
    longest = std::max(longest, s->ids.size());
  }
  if (longest == 0) fail("a batch of empty samples");
  Batch b;
  b.batch_size = static_cast<int64_t>(samples.size());
  b.seq_len = static_cast<int64_t>(longest);
  const size_t total = samples.size() * longest;
  b.input_ids.assign(total, pad_id);
  b.attention_mask.assign(total, 0);
  b.labels.assign(total, kIgnoreIndex);
  for (size_t r = 0; r < samples.size(); ++r) {
    const Sample& s = *samples[r];
    std::copy(s.ids.begin(), s.ids.end(), b.input_ids.begin() + static_cast<std::ptrdiff_t>(r * longest));
    std::copy(s.labels.begin(), s.labels.end(), b.labels.begin() + static_cast<std::ptrdiff_t>(r * longest));
    std::fill_n(b.attention_mask.begin() + static_cast<std::ptrdiff_t>(r * longest), s.ids.size(), uint8_t{1});
  }
  return b;
}

Batch make_packed_batch(std::span<const Sample* const> samples, int64_t max_len, int32_t pad_id) {
  if (samples.empty()) fail("a batch needs at least one sample");
  if (max_len <= 0) fail("packing needs a positive row length, got {}", max_len);
  // Row assignment first, so the batch is allocated once at its final size.
  std::vector<std::vector<const Sample*>> rows;
  int64_t fill = 0, longest = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = *samples[i];
    const auto length = static_cast<int64_t>(s.ids.size());
    if (s.ids.size() != s.labels.size()) fail("sample with {} ids but {} labels", s.ids.size(), s.labels.size());
    if (length == 0) fail("sample {} of the batch is empty", i);
    if (length > max_len)
      fail("sample {} of the batch has {} tokens, more than the packed row length {} (truncate it first)", i, length,
           max_len);
    if (rows.empty() || fill + length > max_len) {
      rows.emplace_back();
      fill = 0;
    }
    rows.back().push_back(&s);
    fill += length;
    longest = std::max(longest, fill);
  }
  Batch b;
  b.batch_size = static_cast<int64_t>(rows.size());
  b.seq_len = longest;
  const auto total = static_cast<size_t>(b.batch_size * b.seq_len);
  b.input_ids.assign(total, pad_id);
  b.attention_mask.assign(total, 0);
  b.labels.assign(total, kIgnoreIndex);
  b.segment_ids.assign(total, -1);
  b.position_ids.assign(total, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    auto t = static_cast<size_t>(static_cast<int64_t>(r) * b.seq_len);
    int32_t segment = 0;
    for (const Sample* s : rows[r]) {
      for (size_t i = 0; i < s->ids.size(); ++i, ++t) {
        b.input_ids[t] = s->ids[i];
        b.labels[t] = s->labels[i];
        b.attention_mask[t] = 1;
        b.segment_ids[t] = segment;
        b.position_ids[t] = static_cast<int32_t>(i);
      }
      ++segment;
    }
  }
  return b;
}

DataOrder::DataOrder(size_t sample_count, uint64_t seed, bool shuffle)
    : count_(sample_count), shuffle_(shuffle), rng_(seed) {
  if (sample_count == 0) fail("the training data has no samples");
  if (sample_count > UINT32_MAX) fail("{} samples: at most {} are supported", sample_count, UINT32_MAX);
  state_.epoch = -1;
  start_epoch();
}

void DataOrder::start_epoch() {
  ++state_.epoch;
  state_.cursor = 0;
  state_.order.resize(count_);
  std::iota(state_.order.begin(), state_.order.end(), 0u);
  if (shuffle_)  // Fisher–Yates with our platform-independent Rng (std::shuffle is not portable)
    for (size_t i = count_ - 1; i > 0; --i) std::swap(state_.order[i], state_.order[rng_.below(i + 1)]);
  state_.rng = rng_.state();
}

std::vector<size_t> DataOrder::next(size_t count) {
  std::vector<size_t> out;
  out.reserve(count);
  while (out.size() < count) {
    if (state_.cursor >= count_) start_epoch();
    out.push_back(state_.order[state_.cursor++]);
  }
  return out;
}

void DataOrder::restore(const State& state) {
  if (state.order.size() != count_ || state.cursor > count_)
    fail("data order of {} samples (cursor {}) does not fit this dataset of {} samples", state.order.size(),
         state.cursor, count_);
  for (uint32_t i : state.order)
    if (i >= count_) fail("data order names sample {} of {}", i, count_);
  state_ = state;
  rng_.set_state(state.rng);
}

}  // namespace slmtune::train
