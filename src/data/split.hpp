#pragma once
// Train/validation/test splits and k-fold folds, stratified by the set of functions each example calls
// (so a rare call pattern, or the no-call turns, land in every part in proportion), reproducible from a
// seed.
#include <cstdint>
#include <vector>

#include "data/example.hpp"

namespace slmtune::data {

// For each example, the index of its part (0, 1, 2, … one per ratio). Ratios must be non-negative and
// sum to 1 (within 1e-6). Within each stratum the examples are shuffled with `seed` and cut at the
// rounded cumulative ratios.
std::vector<int> split_assignment(const std::vector<Example>& examples, const std::vector<double>& ratios, uint64_t seed);

// For each example its fold in [0, k): each stratum shuffled with `seed` and dealt round-robin, the
// deal continuing across strata so folds differ in size by at most one.
std::vector<int> fold_assignment(const std::vector<Example>& examples, int k, uint64_t seed);

}  // namespace slmtune::data
