#include "infer/inference_model.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "infer/transformer_model.hpp"

namespace slmtune::infer {

InferenceModel InferenceModel::load(const std::filesystem::path& path) {
  auto weights = std::make_shared<const ModelWeights>(ModelWeights::load(path));
  auto transformer = std::make_unique<Transformer>(weights);
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(path);
  const int64_t model_vocab = weights->config().vocab_size;
  // Models pad their embedding past the tokenizer (Qwen2: 151936 rows for 151665 tokens); the
  // reverse would let the tokenizer produce ids the model has no row for.
  if (static_cast<int64_t>(tok.vocab_size()) > model_vocab)
    fail("{}: the tokenizer has {} tokens but the model's vocabulary (vocab_size) is only {}", path.string(),
         tok.vocab_size(), model_vocab);
  std::vector<int32_t> eos = end_of_sequence_ids(weights->config(), tok);
  if (eos.empty()) log::warn("{}: no end-of-sequence token is known; generation stops only at the token limit", path.string());
  return InferenceModel{std::move(weights), std::move(transformer), std::move(tok), std::move(eos)};
}

}  // namespace slmtune::infer
