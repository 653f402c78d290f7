#pragma once
// What the generation loop needs from a model: feed tokens, get the next-token logits. A transformer
// with a KV cache feeds only the new tokens through; one without re-runs the whole sequence. Tests
// drive the loop with scripted fakes through the same interface.
#include <cstdint>
#include <span>
#include <vector>

namespace slmtune::infer {

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual int64_t vocab_size() const = 0;
  // The longest sequence the model accepts (prompt + generated); 0 when it sets no limit.
  virtual int64_t context_length() const = 0;
  // Forgets the sequence fed so far; at most `max_length` tokens will be fed before the next reset
  // (a KV cache sizes itself by it).
  virtual void reset(int64_t max_length) = 0;
  // Appends `new_tokens` to the sequence and returns the logits ([vocab_size]) of its last position.
  virtual std::vector<float> next_logits(std::span<const int32_t> new_tokens) = 0;
};

}  // namespace slmtune::infer
