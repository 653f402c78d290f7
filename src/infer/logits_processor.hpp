#pragma once
// The hook between a model's raw next-token logits and the choice of a token. Each processor rewrites
// the logits in place, given every token id so far (prompt and generated), the way a Hugging Face
// LogitsProcessor does; a processor forbids a token by setting its logit to -infinity. The sampling
// processors of sampling.hpp and the JSON-schema grammar of constrained decoding share this interface,
// so the generation loop runs them all as one chain.
#include <cstdint>
#include <span>

namespace slmtune::infer {

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual void process(std::span<float> logits, std::span<const int32_t> history) = 0;
};

}  // namespace slmtune::infer
