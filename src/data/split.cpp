#include "data/split.hpp"

#include <cmath>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace slmtune::data {
namespace {

// Strata in a fixed (sorted-key) order, each a seeded shuffle of its examples' indices.
std::map<std::string, std::vector<size_t>> shuffled_strata(const std::vector<Example>& examples, uint64_t seed) {
  std::map<std::string, std::vector<size_t>> strata;
  for (size_t i = 0; i < examples.size(); ++i) strata[examples[i].called_function_set()].push_back(i);
  Rng rng(seed);
  for (auto& [key, indices] : strata)
    for (size_t i = indices.size(); i > 1; --i) std::swap(indices[i - 1], indices[rng.below(i)]);  // Fisher-Yates
  return strata;
}

}  // namespace

std::vector<int> split_assignment(const std::vector<Example>& examples, const std::vector<double>& ratios, uint64_t seed) {
  if (ratios.empty()) fail("split: expected at least one ratio");
  double total = 0;
  for (double r : ratios) {
    if (!(r >= 0) || !std::isfinite(r)) fail("split: ratios must be non-negative numbers, got {}", r);
    total += r;
  }
  if (std::fabs(total - 1.0) > 1e-6) fail("split: ratios must sum to 1, they sum to {}", total);
  std::vector<int> part(examples.size(), 0);
  for (auto& [key, indices] : shuffled_strata(examples, seed)) {
    size_t n = indices.size(), begin = 0;
    double cumulative = 0;
    for (size_t p = 0; p < ratios.size(); ++p) {
      cumulative += ratios[p];
      size_t end = p + 1 == ratios.size() ? n : std::min(n, static_cast<size_t>(std::llround(cumulative * static_cast<double>(n))));
      for (size_t j = begin; j < end; ++j) part[indices[j]] = static_cast<int>(p);
      begin = std::max(begin, end);
    }
  }
  return part;
}

std::vector<int> fold_assignment(const std::vector<Example>& examples, int k, uint64_t seed) {
  if (k < 2) fail("folds: expected k >= 2, got {}", k);
  if (static_cast<size_t>(k) > examples.size()) fail("folds: {} folds need at least {} examples, got {}", k, k, examples.size());
  std::vector<int> fold(examples.size(), 0);
  size_t dealt = 0;
  for (auto& [key, indices] : shuffled_strata(examples, seed))
    for (size_t index : indices) fold[index] = static_cast<int>(dealt++ % static_cast<size_t>(k));
  return fold;
}

}  // namespace slmtune::data
