#include "infer/transformer_model.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::infer {

TransformerModel::TransformerModel(Transformer& transformer, bool check_numerics, bool use_cache)
    : transformer_(transformer), check_numerics_(check_numerics), use_cache_(use_cache) {}

int64_t TransformerModel::vocab_size() const { return transformer_.config().vocab_size; }

int64_t TransformerModel::context_length() const { return transformer_.config().max_position_embeddings; }

void TransformerModel::reset(int64_t max_length) {
  sequence_.clear();
  if (!use_cache_) return;
  const int64_t context = context_length();
  const int64_t capacity = context > 0 ? std::min(max_length, context) : max_length;
  // Reuse the cache when it is big enough: a chat resets once per turn.
  if (!cache_ || cache_->capacity() < capacity) {
    cache_.reset();  // free the old one before allocating the larger
    cache_ = std::make_unique<KvCache>(transformer_.config(), capacity);
  }
  cache_->clear();
}

std::vector<float> TransformerModel::next_logits(std::span<const int32_t> new_tokens) {
  if (use_cache_) {
    if (!cache_) fail("generate: the KV cache was not sized (reset must come before the first tokens)");
    if (cache_->length() + static_cast<int64_t>(new_tokens.size()) > cache_->capacity())
      fail("generate: {} tokens would overflow the KV cache of {} tokens", cache_->length() + new_tokens.size(),
           cache_->capacity());
    std::vector<float> logits = transformer_.forward_cached(new_tokens, *cache_, LogitsMode::Last, check_numerics_);
    if (static_cast<int64_t>(logits.size()) != vocab_size())
      fail("{}: the forward pass returned {} logits for a vocabulary of {}", transformer_.weights().origin(),
           logits.size(), vocab_size());
    return logits;
  }
  sequence_.insert(sequence_.end(), new_tokens.begin(), new_tokens.end());
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = static_cast<int64_t>(sequence_.size());
  batch.input_ids = sequence_;
  ForwardOptions options;
  options.logits = LogitsMode::Last;
  options.activations = Activations::None;
  options.check_numerics = check_numerics_;
  ForwardResult result = transformer_.forward(batch, options);
  if (static_cast<int64_t>(result.logits.size()) != vocab_size())
    fail("{}: the forward pass returned {} logits for a vocabulary of {}", transformer_.weights().origin(),
         result.logits.size(), vocab_size());
  return std::move(result.logits);
}

std::vector<int32_t> end_of_sequence_ids(const ModelConfig& config, const tokenizer::Tokenizer& tokenizer) {
  std::vector<int32_t> ids;
  const auto add = [&](int64_t id) {
    if (id < 0 || id > INT32_MAX) return;
    if (std::find(ids.begin(), ids.end(), static_cast<int32_t>(id)) == ids.end()) ids.push_back(static_cast<int32_t>(id));
  };
  for (int64_t id : config.eos_token_ids) add(id);
  if (const auto& eos = tokenizer.config().eos_token)
    if (const auto id = tokenizer.token_to_id(*eos)) add(*id);
  return ids;
}

}  // namespace slmtune::infer
