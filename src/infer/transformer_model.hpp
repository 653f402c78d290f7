#pragma once
// The transformer behind the generation loop's LanguageModel interface. With the KV cache (the
// default) each call runs only the new tokens; without it every call re-runs the whole sequence and
// asks for the last position's logits: slow, but a direct check that the cache changes nothing.
#include <memory>
#include <vector>

#include "infer/language_model.hpp"
#include "model/kv_cache.hpp"
#include "model/transformer.hpp"

namespace slmtune::tokenizer {
class Tokenizer;
}

namespace slmtune::infer {

class TransformerModel final : public LanguageModel {
 public:
  // With check_numerics, a NaN/Inf in a block's output fails naming the layer.
  explicit TransformerModel(Transformer& transformer, bool check_numerics = false, bool use_cache = true);
  int64_t vocab_size() const override;
  int64_t context_length() const override;
  void reset(int64_t max_length) override;
  std::vector<float> next_logits(std::span<const int32_t> new_tokens) override;

 private:
  Transformer& transformer_;
  bool check_numerics_;
  bool use_cache_;
  std::unique_ptr<KvCache> cache_;
  std::vector<int32_t> sequence_;  // without the cache: everything fed since reset
};

// Every id that ends generation: config.json's / GGUF's eos_token_id (one or a list) and the
// tokenizer's eos token, without duplicates.
std::vector<int32_t> end_of_sequence_ids(const ModelConfig& config, const tokenizer::Tokenizer& tokenizer);

}  // namespace slmtune::infer
