#pragma once
// Choosing the next token as Hugging Face transformers' generate() does: the same processors with the
// same edge cases (ties kept by top-k, at least one token kept by top-p and min-p, repetition penalty
// applied once per distinct id), run in the same order: repetition penalty, then any extra processors
// (a grammar), then temperature, top-k, top-p, min-p; then argmax (greedy) or a seeded draw.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/rng.hpp"
#include "infer/logits_processor.hpp"

namespace slmtune::infer {

// HF's RepetitionPenaltyLogitsProcessor: a previously seen id's logit is divided by the penalty when
// positive and multiplied by it when negative, so a penalty > 1 always makes the token less likely.
class RepetitionPenalty final : public LogitsProcessor {
 public:
  explicit RepetitionPenalty(float penalty);
  void process(std::span<float> logits, std::span<const int32_t> history) override;

 private:
  float penalty_;
  std::vector<uint8_t> seen_;  // scratch, one flag per vocabulary entry
};

// HF's TemperatureLogitsWarper: logits / temperature (temperature > 0).
class Temperature final : public LogitsProcessor {
 public:
  explicit Temperature(float temperature);
  void process(std::span<float> logits, std::span<const int32_t> history) override;

 private:
  float temperature_;
};

// HF's TopKLogitsWarper: removes every logit strictly below the k-th largest, so ties with the k-th
// value survive and more than k tokens may remain.
class TopK final : public LogitsProcessor {
 public:
  explicit TopK(int64_t k);
  void process(std::span<float> logits, std::span<const int32_t> history) override;

 private:
  int64_t k_;
};

// HF's TopPLogitsWarper: sorts ascending and removes tokens while the cumulative probability stays
// <= 1 - p; the most likely token is always kept.
class TopP final : public LogitsProcessor {
 public:
  explicit TopP(float p);
  void process(std::span<float> logits, std::span<const int32_t> history) override;

 private:
  float p_;
};

// HF's MinPLogitsWarper: removes tokens whose probability is below min_p × the top probability;
// the most likely token is always kept.
class MinP final : public LogitsProcessor {
 public:
  explicit MinP(float min_p);
  void process(std::span<float> logits, std::span<const int32_t> history) override;

 private:
  float min_p_;
};

struct SamplingConfig {
  float temperature = 1.0f;  // 0 → greedy (argmax); otherwise sample
  int64_t top_k = 0;         // 0 → off
  float top_p = 1.0f;        // 1 → off
  float min_p = 0.0f;        // 0 → off
  float repetition_penalty = 1.0f;  // 1 → off
  uint64_t seed = 0;
  bool greedy() const { return temperature == 0.0f; }
};

// Fails with one line naming the setting when a value is outside its range.
void validate(const SamplingConfig& config);

// Softmax in double precision; -inf logits get probability 0. Fails on NaN or when no token is left.
std::vector<double> softmax_probabilities(std::span<const float> logits);
// Index of the largest logit (the first one on ties, as torch.argmax).
int32_t argmax(std::span<const float> logits);

class Sampler {
 public:
  explicit Sampler(const SamplingConfig& config);

  // Extra processors (a grammar) run after the repetition penalty and before the warpers, as custom
  // logits processors do in transformers.
  void add_processor(std::shared_ptr<LogitsProcessor> processor);

  // Runs the whole chain over `logits` (modified in place) and picks the next token.
  int32_t next(std::span<float> logits, std::span<const int32_t> history);

  const SamplingConfig& config() const { return config_; }

 private:
  SamplingConfig config_;
  std::unique_ptr<RepetitionPenalty> repetition_;
  std::vector<std::shared_ptr<LogitsProcessor>> extra_;
  std::vector<std::unique_ptr<LogitsProcessor>> warpers_;
  Rng rng_;
};

}  // namespace slmtune::infer
