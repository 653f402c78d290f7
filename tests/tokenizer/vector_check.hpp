#pragma once
// Runs a tokenizer over reference cases, reports "<name>: N/M cases passed" and fails on any miss.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "test_vectors.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::testing {

// `round_trip`: also require decode(encode(text)) == text for every case.
inline void expect_vectors(const tokenizer::Tokenizer& tok, const std::vector<TokenizerCase>& cases, const std::string& name,
                           bool round_trip) {
  ASSERT_FALSE(cases.empty()) << name;
  size_t passed = 0, round_trips = 0;
  for (const auto& c : cases) {
    const auto ids = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    if (ids == c.ids) ++passed;
    else
      ADD_FAILURE() << name << ": text " << fmt::format("{:?}", c.text) << "\n  expected " << fmt::format("{}", c.ids)
                    << "\n  got      " << fmt::format("{}", ids);
    if (round_trip) {
      const std::string decoded = tok.decode(ids);
      if (decoded == c.text) ++round_trips;
      else ADD_FAILURE() << name << ": round trip of " << fmt::format("{:?}", c.text) << " gave " << fmt::format("{:?}", decoded);
    }
  }
  fmt::print("[ vectors  ] {}: {}/{} cases passed{}\n", name, passed, cases.size(),
             round_trip ? fmt::format(", {}/{} round trips", round_trips, cases.size()) : "");
}

}  // namespace slmtune::testing
