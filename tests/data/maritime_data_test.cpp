// The bundled maritime dataset: every row validates, there are at least 150, the test split is held
// out, and every row follows examples/maritime/POLICY.md where the policy can be checked mechanically.
#include <gtest/gtest.h>

#include <set>

#include "core/atomic_file.hpp"
#include "data/dataset.hpp"
#include "support/test_support.hpp"

namespace slmtune::data {
namespace {

std::filesystem::path maritime(const std::string& relative) {
  return slmtune::testing::source_dir() / "examples/maritime" / relative;
}

Dataset load(const std::string& name) {
  LoadOptions options;
  options.system_template = read_file(maritime("system_prompt.txt"));
  return load_dataset(maritime("data/" + name), options);
}

TEST(MaritimeData, EverySplitValidatesAndFollowsThePolicy) {
  const std::set<std::string> always_mayday = {"Fire", "Flooding", "Man Overboard"};
  size_t total = 0, no_call = 0;
  std::set<std::string> combinations;
  for (const char* name : {"train.csv", "validation.csv", "test.csv", "fresh.csv"}) {
    SCOPED_TRACE(name);
    Dataset dataset = load(name);
    ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
    ASSERT_EQ(dataset.examples.size(), dataset.rows);
    total += dataset.rows;
    for (const auto& e : dataset.examples) {
      SCOPED_TRACE(e.line);
      ASSERT_EQ(e.tools.size(), 2u);
      EXPECT_NE(e.messages.front().content.find(e.variables.at("gps")), std::string::npos);  // GPS in the system message
      auto turns = e.expected_calls();
      ASSERT_EQ(turns.size(), 1u);
      const auto& calls = turns[0];
      if (calls.empty()) {
        ++no_call;
        EXPECT_FALSE(e.messages.back().content.empty()) << "a turn with no call answers in plain text";
        continue;
      }
      ASSERT_EQ(calls.size(), 2u);
      EXPECT_EQ(calls[0].name, "categorize_emergency");
      EXPECT_EQ(calls[1].name, "broadcast_emergency_message");
      EXPECT_EQ(calls[1].arguments["location"], e.variables.at("gps"));  // copied verbatim
      std::string detail = calls[0].arguments["emergency_detail"];
      std::string type = calls[1].arguments["emergency_type"];
      EXPECT_EQ(calls[1].arguments["emergency_detail"], detail);
      if (always_mayday.count(detail)) {
        EXPECT_EQ(type, "Mayday");
      }
      if (detail == "Lost Navigation") {
        EXPECT_NE(type, "Mayday");
      } else {
        EXPECT_NE(type, "Securité");
      }
      combinations.insert(detail + "/" + type);
    }
  }
  EXPECT_GE(total, 150u);
  EXPECT_GE(no_call, 15u);
  // Every detail × severity combination the policy allows is present.
  EXPECT_EQ(combinations.size(), 11u);
}

TEST(MaritimeData, TestSplitIsHeldOut) {
  std::set<std::string> seen;
  for (const char* name : {"train.csv", "validation.csv"})
    for (const auto& e : load(name).examples) seen.insert(e.messages[1].content);
  for (const auto& e : load("test.csv").examples) EXPECT_FALSE(seen.count(e.messages[1].content)) << e.messages[1].content;
}

// fresh.csv (written after the rest, never tuned on) shares no query and no GPS position with the splits.
TEST(MaritimeData, FreshQueriesAreNewSentencesAtNewPositions) {
  std::set<std::string> queries, positions;
  for (const char* name : {"train.csv", "validation.csv", "test.csv"})
    for (const auto& e : load(name).examples) {
      queries.insert(e.messages[1].content);
      positions.insert(e.variables.at("gps"));
    }
  const Dataset fresh = load("fresh.csv");
  EXPECT_EQ(fresh.examples.size(), 30u);
  for (const auto& e : fresh.examples) {
    EXPECT_FALSE(queries.count(e.messages[1].content)) << e.messages[1].content;
    EXPECT_FALSE(positions.count(e.variables.at("gps"))) << e.variables.at("gps");
  }
}

}  // namespace
}  // namespace slmtune::data
