// Splits and folds: every stratum (called-function set) is cut in proportion, the same seed gives the
// same split, another seed a different one.
#include <gtest/gtest.h>

#include <array>
#include <map>

#include "core/error.hpp"
#include "data/split.hpp"

namespace slmtune::data {
namespace {

// `counts` examples per called-function set ("" = no call).
std::vector<Example> examples_with(const std::map<std::string, int>& counts) {
  std::vector<Example> out;
  for (const auto& [name, n] : counts)
    for (int i = 0; i < n; ++i) {
      Example e;
      e.line = out.size() + 2;
      Message assistant{"assistant", name.empty() ? "ok" : "", {}, ""};
      if (!name.empty()) assistant.calls.push_back({name, Json::object()});
      e.messages = {Message{"user", "q" + std::to_string(i), {}, ""}, assistant};
      out.push_back(e);
    }
  return out;
}

TEST(Split, StratifiedByCalledFunctionSet) {
  auto examples = examples_with({{"a", 50}, {"b", 30}, {"", 20}});
  auto part = split_assignment(examples, {0.8, 0.1, 0.1}, 7);
  std::map<std::string, std::array<int, 3>> per_stratum;
  for (size_t i = 0; i < examples.size(); ++i) per_stratum[examples[i].called_function_set()][part[i]]++;
  EXPECT_EQ(per_stratum["a"], (std::array<int, 3>{40, 5, 5}));
  EXPECT_EQ(per_stratum["b"], (std::array<int, 3>{24, 3, 3}));
  EXPECT_EQ(per_stratum["(no call)"], (std::array<int, 3>{16, 2, 2}));
}

TEST(Split, DeterministicForASeedAndDifferentAcrossSeeds) {
  auto examples = examples_with({{"a", 40}, {"b", 40}});
  auto first = split_assignment(examples, {0.5, 0.5}, 1);
  EXPECT_EQ(first, split_assignment(examples, {0.5, 0.5}, 1));
  EXPECT_NE(first, split_assignment(examples, {0.5, 0.5}, 2));
}

TEST(Split, RejectsBadRatios) {
  auto examples = examples_with({{"a", 4}});
  EXPECT_THROW(split_assignment(examples, {0.8, 0.1}, 0), Error);
  EXPECT_THROW(split_assignment(examples, {1.2, -0.2}, 0), Error);
  EXPECT_THROW(split_assignment(examples, {}, 0), Error);
}

TEST(Folds, BalancedAndStratified) {
  auto examples = examples_with({{"a", 23}, {"b", 11}, {"", 6}});
  auto fold = fold_assignment(examples, 5, 3);
  std::map<int, int> sizes;
  std::map<std::string, std::map<int, int>> per_stratum;
  for (size_t i = 0; i < examples.size(); ++i) {
    sizes[fold[i]]++;
    per_stratum[examples[i].called_function_set()][fold[i]]++;
  }
  ASSERT_EQ(sizes.size(), 5u);
  for (auto [k, n] : sizes) EXPECT_EQ(n, 8) << "fold " << k;
  for (auto& [key, folds] : per_stratum) {
    int lo = 1 << 30, hi = 0;
    for (int k = 0; k < 5; ++k) {
      lo = std::min(lo, folds[k]);
      hi = std::max(hi, folds[k]);
    }
    EXPECT_LE(hi - lo, 1) << key;
  }
  EXPECT_EQ(fold, fold_assignment(examples, 5, 3));
  EXPECT_THROW(fold_assignment(examples, 1, 0), Error);
}

}  // namespace
}  // namespace slmtune::data
