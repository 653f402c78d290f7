#include "infer/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "core/error.hpp"

namespace slmtune::infer {
namespace {

constexpr float kRemoved = -std::numeric_limits<float>::infinity();

// Indices sorted by logit; stable so that equal logits keep index order (torch.sort gives no
// guarantee on ties, so any order is HF-compatible; a fixed one keeps our draws reproducible).
std::vector<int32_t> sorted_indices(std::span<const float> logits, bool descending) {
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  if (descending)
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  else
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] < logits[b]; });
  return order;
}

}  // namespace

RepetitionPenalty::RepetitionPenalty(float penalty) : penalty_(penalty) {
  if (!(penalty > 0.0f) || !std::isfinite(penalty))
    fail("sampling: repetition penalty {} must be a positive number (1 = off)", penalty);
}

void RepetitionPenalty::process(std::span<float> logits, std::span<const int32_t> history) {
  // Each distinct id is penalised once however often it occurred (HF gathers, then scatters).
  seen_.assign(logits.size(), 0);
  for (int32_t id : history) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size())
      fail("sampling: token id {} in the history is outside the vocabulary of {} logits", id, logits.size());
    if (seen_[id]) continue;
    seen_[id] = 1;
    float& x = logits[id];
    x = x < 0.0f ? x * penalty_ : x / penalty_;
  }
}

Temperature::Temperature(float temperature) : temperature_(temperature) {
  if (!(temperature > 0.0f) || !std::isfinite(temperature))
    fail("sampling: temperature {} must be a positive number (use greedy decoding for 0)", temperature);
}

void Temperature::process(std::span<float> logits, std::span<const int32_t>) {
  for (float& x : logits) x /= temperature_;
}

TopK::TopK(int64_t k) : k_(k) {
  if (k <= 0) fail("sampling: top-k {} must be at least 1", k);
}

void TopK::process(std::span<float> logits, std::span<const int32_t>) {
  const size_t k = std::min<size_t>(static_cast<size_t>(k_), logits.size());
  if (k == 0 || k == logits.size()) return;
  std::vector<float> copy(logits.begin(), logits.end());
  std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(k - 1), copy.end(), std::greater<float>());
  const float threshold = copy[k - 1];
  for (float& x : logits)
    if (x < threshold) x = kRemoved;
}

TopP::TopP(float p) : p_(p) {
  if (!(p > 0.0f && p <= 1.0f)) fail("sampling: top-p {} must be in (0, 1]", p);
}

void TopP::process(std::span<float> logits, std::span<const int32_t>) {
  if (p_ >= 1.0f || logits.empty()) return;
  const std::vector<double> probs = softmax_probabilities(logits);
  const std::vector<int32_t> ascending = sorted_indices(logits, /*descending=*/false);
  const double limit = 1.0 - static_cast<double>(p_);
  double cumulative = 0.0;
  // The last (most likely) entry is never removed: HF's min_tokens_to_keep = 1.
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    cumulative += probs[ascending[i]];
    if (cumulative > limit) break;
    logits[ascending[i]] = kRemoved;
  }
}

MinP::MinP(float min_p) : min_p_(min_p) {
  if (!(min_p >= 0.0f && min_p <= 1.0f)) fail("sampling: min-p {} must be in [0, 1]", min_p);
}

void MinP::process(std::span<float> logits, std::span<const int32_t>) {
  if (min_p_ <= 0.0f || logits.empty()) return;
  const std::vector<double> probs = softmax_probabilities(logits);
  const int32_t top = argmax(logits);
  const double threshold = static_cast<double>(min_p_) * probs[top];
  for (size_t i = 0; i < logits.size(); ++i)
    if (static_cast<int32_t>(i) != top && probs[i] < threshold) logits[i] = kRemoved;
}

void validate(const SamplingConfig& c) {
  if (!(c.temperature >= 0.0f) || !std::isfinite(c.temperature))
    fail("sampling: --temperature {} must be >= 0 (0 = greedy)", c.temperature);
  if (c.top_k < 0) fail("sampling: --top-k {} must be >= 0 (0 = off)", c.top_k);
  if (!(c.top_p > 0.0f && c.top_p <= 1.0f)) fail("sampling: --top-p {} must be in (0, 1] (1 = off)", c.top_p);
  if (!(c.min_p >= 0.0f && c.min_p <= 1.0f)) fail("sampling: --min-p {} must be in [0, 1] (0 = off)", c.min_p);
  if (!(c.repetition_penalty > 0.0f) || !std::isfinite(c.repetition_penalty))
    fail("sampling: --repetition-penalty {} must be > 0 (1 = off)", c.repetition_penalty);
}

std::vector<double> softmax_probabilities(std::span<const float> logits) {
  if (logits.empty()) fail("sampling: no logits to choose from");
  double max_logit = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) fail("sampling: logit of token {} is NaN", i);
    if (logits[i] == std::numeric_limits<float>::infinity()) fail("sampling: logit of token {} is +infinity", i);
    max_logit = std::max(max_logit, static_cast<double>(logits[i]));
  }
  if (std::isinf(max_logit)) fail("sampling: every token of the vocabulary was removed by the logits processors");
  std::vector<double> probs(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    probs[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
    sum += probs[i];
  }
  for (double& p : probs) p /= sum;
  return probs;
}

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) fail("sampling: no logits to choose from");
  size_t best = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) fail("sampling: logit of token {} is NaN", i);
    if (logits[i] > logits[best]) best = i;
  }
  if (logits[best] == -std::numeric_limits<float>::infinity())
    fail("sampling: every token of the vocabulary was removed by the logits processors");
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplingConfig& config) : config_(config), rng_(config.seed) {
  validate(config);
  if (config.repetition_penalty != 1.0f) repetition_ = std::make_unique<RepetitionPenalty>(config.repetition_penalty);
  if (config.greedy()) return;  // warpers do not change the argmax, and HF skips them without sampling
  if (config.temperature != 1.0f) warpers_.push_back(std::make_unique<Temperature>(config.temperature));
  if (config.top_k > 0) warpers_.push_back(std::make_unique<TopK>(config.top_k));
  if (config.top_p < 1.0f) warpers_.push_back(std::make_unique<TopP>(config.top_p));
  if (config.min_p > 0.0f) warpers_.push_back(std::make_unique<MinP>(config.min_p));
}

void Sampler::add_processor(std::shared_ptr<LogitsProcessor> processor) { extra_.push_back(std::move(processor)); }

int32_t Sampler::next(std::span<float> logits, std::span<const int32_t> history) {
  if (repetition_) repetition_->process(logits, history);
  for (auto& processor : extra_) processor->process(logits, history);
  if (config_.greedy()) return argmax(logits);
  for (auto& warper : warpers_) warper->process(logits, history);
  const std::vector<double> probs = softmax_probabilities(logits);
  // Inverse-CDF draw; a u that rounding pushes past the total falls on the last possible token.
  const double u = rng_.uniform();
  double cumulative = 0.0;
  int32_t last_possible = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0.0) continue;
    last_possible = static_cast<int32_t>(i);
    cumulative += probs[i];
    if (u < cumulative) return last_possible;
  }
  return last_possible;
}

}  // namespace slmtune::infer
