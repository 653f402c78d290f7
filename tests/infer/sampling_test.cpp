// Sampling processors against the behaviour Hugging Face transformers documents for its
// LogitsProcessor classes, on small logit vectors whose results are worked out by hand in the
// comments; the seeded sampler's draw frequencies against softmax probabilities (chi-square).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "infer/sampling.hpp"

namespace slmtune::infer {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<bool> kept(const std::vector<float>& logits) {
  std::vector<bool> out;
  for (float x : logits) out.push_back(x != -kInf);
  return out;
}

TEST(RepetitionPenalty, DividesPositiveMultipliesNegativeOncePerDistinctId) {
  std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.5f, 0.0f};
  const std::vector<int32_t> history = {0, 1, 1, 4, 0};
  RepetitionPenalty(2.0f).process(logits, history);
  EXPECT_FLOAT_EQ(logits[0], 1.0f);   // 2 / 2, not 2 / 4 although id 0 occurs twice
  EXPECT_FLOAT_EQ(logits[1], -4.0f);  // -2 * 2
  EXPECT_FLOAT_EQ(logits[2], 1.0f);   // unseen
  EXPECT_FLOAT_EQ(logits[3], 0.5f);   // unseen
  EXPECT_FLOAT_EQ(logits[4], 0.0f);   // 0 / 2
}

TEST(RepetitionPenalty, PenaltyBelowOneRewardsRepeats) {
  std::vector<float> logits = {2.0f, -2.0f};
  const std::vector<int32_t> history = {0, 1};
  RepetitionPenalty(0.5f).process(logits, history);
  EXPECT_FLOAT_EQ(logits[0], 4.0f);
  EXPECT_FLOAT_EQ(logits[1], -1.0f);
}

TEST(RepetitionPenalty, RejectsIdOutsideVocabulary) {
  std::vector<float> logits = {1.0f, 2.0f};
  const std::vector<int32_t> history = {2};
  EXPECT_THROW(RepetitionPenalty(1.3f).process(logits, history), Error);
}

TEST(Temperature, DividesLogits) {
  std::vector<float> logits = {1.0f, -3.0f, 0.25f};
  Temperature(0.5f).process(logits, {});
  EXPECT_FLOAT_EQ(logits[0], 2.0f);
  EXPECT_FLOAT_EQ(logits[1], -6.0f);
  EXPECT_FLOAT_EQ(logits[2], 0.5f);
  EXPECT_THROW(Temperature(0.0f), Error);
  EXPECT_THROW(Temperature(-1.0f), Error);
}

TEST(TopK, KeepsTheKLargest) {
  std::vector<float> logits = {0.1f, 3.0f, -1.0f, 2.0f, 0.5f};
  TopK(2).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, true, false, true, false}));
  EXPECT_FLOAT_EQ(logits[1], 3.0f);  // survivors unchanged
  EXPECT_FLOAT_EQ(logits[3], 2.0f);
}

TEST(TopK, KeepsTiesWithTheKthValue) {
  // HF removes `scores < kth largest`: with [1, 2, 2, 3] and k = 2 the 2nd largest is 2, and both 2s stay.
  std::vector<float> logits = {1.0f, 2.0f, 2.0f, 3.0f};
  TopK(2).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, true, true, true}));
}

TEST(TopK, KLargerThanVocabularyKeepsAll) {
  std::vector<float> logits = {1.0f, 2.0f};
  TopK(10).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{true, true}));
}

// softmax([1, 2, 3, 4]) = [0.0321, 0.0871, 0.2369, 0.6439]; ascending cumulative sums:
// 0.0321, 0.1192, 0.3561, 1.0.
TEST(TopP, RemovesTheTailWhoseCumulativeMassIsAtMostOneMinusP) {
  std::vector<float> logits = {1.0f, 2.0f, 3.0f, 4.0f};
  TopP(0.7f).process(logits, {});  // 1 - p = 0.3: 0.0321 and 0.1192 go, 0.3561 > 0.3 stays
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, false, true, true}));

  logits = {4.0f, 3.0f, 2.0f, 1.0f};
  TopP(0.5f).process(logits, {});  // 1 - p = 0.5: 0.3561 <= 0.5 goes too
  EXPECT_EQ(kept(logits), (std::vector<bool>{true, false, false, false}));

  logits = {1.0f, 2.0f, 3.0f, 4.0f};
  TopP(0.9f).process(logits, {});  // 1 - p = 0.1: only 0.0321 goes
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, true, true, true}));
}

TEST(TopP, AlwaysKeepsTheMostLikelyToken) {
  // p(top) = 1/(1 + e^-10) ≈ 0.99995: a tiny p keeps exactly the top token.
  std::vector<float> logits = {0.0f, 10.0f};
  TopP(0.01f).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, true}));
  // Four equal logits, p = 0.01: cumulative 0.25, 0.5, 0.75 are <= 0.99 and go; exactly one token stays.
  logits = {0.0f, 0.0f, 0.0f, 0.0f};
  TopP(0.01f).process(logits, {});
  const std::vector<bool> survivors = kept(logits);
  EXPECT_EQ(std::count(survivors.begin(), survivors.end(), true), 1);
}

// probabilities relative to the top one for [1, 2, 3, 4]: e^-3 = 0.0498, e^-2 = 0.1353, e^-1 = 0.3679, 1.
TEST(MinP, RemovesTokensBelowMinPTimesTheTopProbability) {
  std::vector<float> logits = {1.0f, 2.0f, 3.0f, 4.0f};
  MinP(0.3f).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, false, true, true}));
  logits = {1.0f, 2.0f, 3.0f, 4.0f};
  MinP(0.4f).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, false, false, true}));
  logits = {1.0f, 2.0f, 3.0f, 4.0f};
  MinP(0.1f).process(logits, {});
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, true, true, true}));
  logits = {1.0f, 2.0f, 3.0f, 4.0f};
  MinP(1.0f).process(logits, {});  // only the top token reaches 1 × p(top)
  EXPECT_EQ(kept(logits), (std::vector<bool>{false, false, false, true}));
}

TEST(Argmax, FirstIndexOfTheMaximumLikeTorch) {
  const std::vector<float> logits = {1.0f, 5.0f, 5.0f, -2.0f};
  EXPECT_EQ(argmax(logits), 1);
  const std::vector<float> removed = {-kInf, -kInf};
  EXPECT_THROW(argmax(removed), Error);
  const std::vector<float> nan = {1.0f, std::nanf("")};
  EXPECT_THROW(argmax(nan), Error);
}

TEST(Sampler, GreedyAppliesRepetitionPenaltyButNoWarpers) {
  SamplingConfig config;
  config.temperature = 0.0f;
  config.repetition_penalty = 4.0f;
  config.top_k = 1;  // would be irrelevant for argmax anyway
  Sampler sampler(config);
  std::vector<float> logits = {3.0f, 1.0f, 2.0f};
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(sampler.next(logits, history), 2);  // 3 / 4 = 0.75 < 2
}

TEST(Sampler, ValidatesSettings) {
  SamplingConfig bad;
  bad.top_p = 0.0f;
  EXPECT_THROW(Sampler{bad}, Error);
  bad = {};
  bad.min_p = 1.5f;
  EXPECT_THROW(Sampler{bad}, Error);
  bad = {};
  bad.temperature = -0.5f;
  EXPECT_THROW(Sampler{bad}, Error);
  bad = {};
  bad.top_k = -1;
  EXPECT_THROW(Sampler{bad}, Error);
  bad = {};
  bad.repetition_penalty = 0.0f;
  EXPECT_THROW(Sampler{bad}, Error);
}

class ForbidToken final : public LogitsProcessor {
 public:
  explicit ForbidToken(int32_t id) : id_(id) {}
  void process(std::span<float> logits, std::span<const int32_t>) override { logits[id_] = -kInf; }

 private:
  int32_t id_;
};

TEST(Sampler, ExtraProcessorRunsBeforeTheChoice) {
  SamplingConfig config;
  config.temperature = 0.0f;
  Sampler sampler(config);
  sampler.add_processor(std::make_shared<ForbidToken>(1));
  std::vector<float> logits = {0.0f, 9.0f, 1.0f};
  EXPECT_EQ(sampler.next(logits, {}), 2);
}

// Pearson's chi-square statistic of observed counts against expected probabilities.
double chi_square(const std::vector<int>& counts, const std::vector<double>& expected, int draws) {
  double statistic = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expected[i] == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " was removed but drawn";
      continue;
    }
    const double e = expected[i] * draws;
    statistic += (counts[i] - e) * (counts[i] - e) / e;
  }
  return statistic;
}

std::vector<int> draw_counts(const SamplingConfig& config, const std::vector<float>& logits, int draws) {
  Sampler sampler(config);
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    std::vector<float> copy = logits;
    ++counts[sampler.next(copy, {})];
  }
  return counts;
}

TEST(Sampler, FrequenciesMatchSoftmaxWithTemperature) {
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -0.5f};
  SamplingConfig config;
  config.temperature = 0.7f;
  config.seed = 1234;
  const int draws = 200000;
  const std::vector<int> counts = draw_counts(config, logits, draws);
  // Expected: exp(x / 0.7) normalised, computed here independently of the library.
  std::vector<double> expected;
  double sum = 0.0;
  for (float x : logits) sum += std::exp(x / 0.7);
  for (float x : logits) expected.push_back(std::exp(x / 0.7) / sum);
  // 5 degrees of freedom: P(chi2 > 20.52) = 0.001.
  EXPECT_LT(chi_square(counts, expected, draws), 20.52);
}

TEST(Sampler, FrequenciesMatchRenormalisedTopKTopP) {
  // top-k 4 leaves {2.0, 1.0, 0.5, 0.0}, whose softmax is [0.5793, 0.2131, 0.1293, 0.0784]; top-p 0.75
  // then removes ascending while the cumulative mass stays <= 0.25: 0.0784, then 0.2077, leaving {2.0, 1.0}.
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -0.5f};
  SamplingConfig config;
  config.top_k = 4;
  config.top_p = 0.75f;
  config.seed = 99;
  const int draws = 100000;
  const std::vector<int> counts = draw_counts(config, logits, draws);
  const double a = std::exp(2.0), b = std::exp(1.0);
  const std::vector<double> expected = {0, 0, a / (a + b), 0, b / (a + b), 0};
  // 1 degree of freedom: P(chi2 > 10.83) = 0.001.
  EXPECT_LT(chi_square(counts, expected, draws), 10.83);
}

TEST(Sampler, SameSeedSameDraws) {
  const std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.4f};
  SamplingConfig config;
  config.seed = 7;
  Sampler first(config), second(config);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> a = logits, b = logits;
    EXPECT_EQ(first.next(a, {}), second.next(b, {}));
  }
}

}  // namespace
}  // namespace slmtune::infer
