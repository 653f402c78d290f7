// Synthetic expansion: N distinct valid rows, reproducible from the seed, never repeating a query of an
// excluded dataset; the maritime template's rows follow POLICY.md.
#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "data/synth.hpp"
#include "support/test_support.hpp"

namespace slmtune::data {
namespace {

using slmtune::testing::TempDir;
using slmtune::testing::write_text;

void write_template(const TempDir& dir) {
  write_text(dir / "f.json", R"([{"name": "greet", "parameters": {"type": "object", "properties": {
      "who": {"type": "string"}, "where": {"type": "string"}}, "required": ["who"]}}])");
  write_text(dir / "t.yaml", R"(functions: f.json
variables: [where]
slots:
  who: [Ann, Bob, Cy]
  where: ["1N, 2W", "3S, 4E"]
cases:
  - queries: ["say hi to {who}", "greet {who} please"]
    calls: [{name: greet, arguments: {who: "{who}", where: "{where}"}}]
  - queries: ["thanks"]
    response: "welcome"
)");
}

TEST(Synth, DistinctValidReproducibleRows) {
  TempDir dir;
  write_template(dir);
  SynthOptions options;
  options.count = 5;
  options.seed = 11;
  SynthResult result = synthesize(dir / "t.yaml", options);
  EXPECT_EQ(result.rows, 5u);
  Dataset dataset = parse_dataset(result.csv, DatasetFormat::csv, "synth.csv");
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  ASSERT_EQ(dataset.examples.size(), 5u);
  std::set<std::string> queries;
  for (const auto& e : dataset.examples) {
    EXPECT_TRUE(queries.insert(dedup_key(e.messages[0].content)).second) << e.messages[0].content;
    auto calls = e.expected_calls()[0];
    if (calls.empty()) continue;
    // The slot takes one value per row: the query and the call agree on it, and the column too.
    EXPECT_NE(e.messages[0].content.find(calls[0].arguments["who"].get<std::string>()), std::string::npos);
    EXPECT_EQ(calls[0].arguments["where"], e.variables.at("where"));
  }
  EXPECT_EQ(synthesize(dir / "t.yaml", options).csv, result.csv);
  options.seed = 12;
  EXPECT_NE(synthesize(dir / "t.yaml", options).csv, result.csv);
}

TEST(Synth, ExcludedQueriesAndExhaustion) {
  TempDir dir;
  write_template(dir);
  // 3 names × 2 phrasings + "thanks" = 7 distinct queries; exclude two of them (in another spelling).
  write_text(dir / "held_out.csv", "function_definitions,user_query,function_call,response\n"
                                   "[],Say hi to ANN!,[],x\n[],thanks,[],x\n");
  SynthOptions options;
  options.count = 20;
  options.exclude = {dir / "held_out.csv"};
  SynthResult result = synthesize(dir / "t.yaml", options);
  EXPECT_EQ(result.rows, 5u);
  EXPECT_GT(result.duplicates, 0u);
  EXPECT_EQ(result.csv.find("say hi to Ann"), std::string::npos);
  EXPECT_EQ(result.csv.find(",thanks,"), std::string::npos);
}

TEST(Synth, BadTemplatesAreOneLineErrors) {
  TempDir dir;
  write_template(dir);
  write_text(dir / "bad.yaml", "functions: f.json\ncases:\n  - queries: [\"hi {nobody}\"]\n    response: x\n");
  try {
    synthesize(dir / "bad.yaml", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"{nobody}\" names no slot"), std::string::npos) << e.what();
  }
  write_text(dir / "enum.yaml", "functions: f.json\ncases:\n  - queries: [hi]\n    calls: [{name: greet, arguments: {}}]\n");
  try {
    synthesize(dir / "enum.yaml", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing required argument \"who\""), std::string::npos) << e.what();
  }
}

TEST(Synth, MaritimeTemplateFollowsPolicyAndAvoidsHeldOutQueries) {
  auto maritime = slmtune::testing::source_dir() / "examples/maritime";
  SynthOptions options;
  options.count = 150;
  options.exclude = {maritime / "data/validation.csv", maritime / "data/test.csv"};
  SynthResult result = synthesize(maritime / "synth.yaml", options);
  EXPECT_EQ(result.rows, 150u);
  Dataset dataset = parse_dataset(result.csv, DatasetFormat::csv, "synth.csv");
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  for (const auto& e : dataset.examples) {
    auto calls = e.expected_calls()[0];
    if (calls.empty()) continue;
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].name, "categorize_emergency");
    EXPECT_EQ(calls[1].arguments["location"], e.variables.at("gps"));
  }
}

}  // namespace
}  // namespace slmtune::data
