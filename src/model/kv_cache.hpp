#pragma once
// Keys and values of every layer for one sequence (batch 1), so decoding feeds only the new tokens:
// each layer's rotated keys and its values, [capacity, kv_heads, head_dim], filled up to length().
#include <cstdint>
#include <vector>

#include "model/config.hpp"

namespace slmtune {

class KvCache {
 public:
  // capacity: the most tokens the cache holds (prompt + generated); at most max_position_embeddings.
  KvCache(const ModelConfig& config, int64_t capacity);

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  int64_t bytes() const { return static_cast<int64_t>((keys_.size() + values_.size()) * sizeof(float)); }
  void clear() { length_ = 0; }
  // Forgets everything after the first `length` tokens (a shared prompt prefix stays valid).
  void truncate(int64_t length);

  float* keys(int64_t layer) { return keys_.data() + layer * layer_stride_; }
  float* values(int64_t layer) { return values_.data() + layer * layer_stride_; }
  // Called by the transformer once every layer holds `count` more tokens.
  void advance(int64_t count);

 private:
  int64_t layers_ = 0, capacity_ = 0, length_ = 0, layer_stride_ = 0;
  std::vector<float> keys_, values_;
};

}  // namespace slmtune
