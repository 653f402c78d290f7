#pragma once
// Everything the generate/chat/logits commands load from one MODEL argument (a Hugging Face folder or
// a .gguf file): the weights, the transformer over them, the tokenizer and the ids that end a reply.
#include <filesystem>
#include <memory>
#include <vector>

#include "model/transformer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::infer {

struct InferenceModel {
  std::shared_ptr<const ModelWeights> weights;
  std::unique_ptr<Transformer> transformer;
  tokenizer::Tokenizer tokenizer;
  std::vector<int32_t> eos_ids;

  static InferenceModel load(const std::filesystem::path& path);
};

}  // namespace slmtune::infer
