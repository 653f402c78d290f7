#include "model/kv_cache.hpp"

#include "core/error.hpp"

namespace slmtune {

KvCache::KvCache(const ModelConfig& config, int64_t capacity) : layers_(config.num_layers), capacity_(capacity) {
  if (capacity <= 0) fail("kv cache: capacity {} must be positive", capacity);
  if (config.max_position_embeddings > 0 && capacity > config.max_position_embeddings)
    fail("kv cache: capacity {} exceeds the model's context of {} tokens", capacity, config.max_position_embeddings);
  layer_stride_ = capacity * config.kv_size();
  keys_.assign(static_cast<size_t>(layers_ * layer_stride_), 0.0f);
  values_.assign(keys_.size(), 0.0f);
}

void KvCache::truncate(int64_t length) {
  if (length < 0 || length > length_) fail("kv cache: cannot truncate {} tokens to {}", length_, length);
  length_ = length;
}

void KvCache::advance(int64_t count) {
  if (count < 0 || length_ + count > capacity_)
    fail("kv cache: {} more tokens would exceed its capacity of {} (holds {})", count, capacity_, length_);
  length_ += count;
}

}  // namespace slmtune
