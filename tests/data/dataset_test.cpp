// Loading the article's CSV and chat JSONL into Examples, and every bad input of issue 7's "Bad input"
// section reported as file:line, field and what was expected.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "support/test_support.hpp"

namespace slmtune::data {
namespace {

std::string maritime_functions() {
  return read_file(slmtune::testing::source_dir() / "examples/maritime/functions.json");
}

std::string csv(const std::vector<std::vector<std::string>>& rows) {
  std::string text = csv_record({"function_definitions", "user_query", "function_call", "gps"});
  for (const auto& row : rows) text += csv_record(row);
  return text;
}

const char* const kMaydayFlooding =
    R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": "Flooding"}},)"
    R"( {"name": "broadcast_emergency_message", "arguments": {"location": "42.3541N, 71.0654W",)"
    R"( "emergency_detail": "Flooding", "emergency_type": "Mayday"}}])";

TEST(CsvDataset, ArticleRowBecomesAnExample) {
  LoadOptions options;
  options.system_template = "You are a boat's emergency assistant. The boat's GPS position: {{ gps }}.";
  auto dataset = parse_dataset(csv({{maritime_functions(), "We are taking on water and need immediate help", kMaydayFlooding,
                                     "42.3541N, 71.0654W"}}),
                               DatasetFormat::csv, "m.csv", options);
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors[0];
  ASSERT_EQ(dataset.examples.size(), 1u);
  const Example& e = dataset.examples[0];
  EXPECT_EQ(e.line, 2u);
  ASSERT_EQ(e.tools.size(), 2u);
  EXPECT_EQ(e.tools[1].name, "broadcast_emergency_message");
  ASSERT_EQ(e.messages.size(), 3u);
  EXPECT_EQ(e.messages[0].content, "You are a boat's emergency assistant. The boat's GPS position: 42.3541N, 71.0654W.");
  EXPECT_EQ(e.messages[1].content, "We are taking on water and need immediate help");
  ASSERT_EQ(e.expected_calls().size(), 1u);
  ASSERT_EQ(e.expected_calls()[0].size(), 2u);
  EXPECT_EQ(e.expected_calls()[0][1].arguments["emergency_type"], "Mayday");
  EXPECT_EQ(e.variables.at("gps"), "42.3541N, 71.0654W");
  EXPECT_EQ(e.called_function_set(), "broadcast_emergency_message+categorize_emergency");
}

TEST(CsvDataset, EmptyCallListIsAllowed) {
  for (const char* empty : {"[]", ""}) {
    auto dataset = parse_dataset(csv({{maritime_functions(), "thanks, all good now", empty, "1N, 2W"}}), DatasetFormat::csv, "m.csv");
    ASSERT_TRUE(dataset.errors.empty()) << dataset.errors[0];
    EXPECT_TRUE(dataset.examples[0].expected_calls()[0].empty());
    EXPECT_EQ(dataset.examples[0].called_function_set(), "(no call)");
  }
}

// Every row problem of the issue, all collected from one file, each naming file:line and the field.
TEST(CsvDataset, EveryBadRowIsReportedWithFileLineAndField) {
  std::string defs = maritime_functions();
  std::string text = csv({
      {defs, "fire in the engine room", R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": "Fire"}])", "1N, 2W"},
      {defs, "sos", R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": "Explosion"}}])", "1N, 2W"},
      {defs, "call the coastguard", R"([{"name": "call_coastguard", "arguments": {}}])", "1N, 2W"},
      {defs, "man overboard", R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": "Man Overboard"}}])", ""},
      {"[{\"name\": ", "hello", "[]", "1N, 2W"},
      {defs, "", "[]", "1N, 2W"},
      {defs, "ok", R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": "Fire", "severity": 3}}])", "1N, 2W"},
  });
  text += "only,three,cells\n";
  LoadOptions options;
  options.system_template = "GPS: {{gps}}";
  auto dataset = parse_dataset(text, DatasetFormat::csv, "bad.csv", options);
  EXPECT_TRUE(dataset.examples.empty());
  EXPECT_EQ(dataset.rows, 8u);
  ASSERT_EQ(dataset.errors.size(), 8u);
  auto has = [&](size_t i, const std::string& part) {
    EXPECT_NE(dataset.errors[i].find(part), std::string::npos) << dataset.errors[i] << "\n  lacks: " << part;
  };
  // Line numbers are those of the records: the header takes line 1 and each record spans
  // one line more than functions.json has line breaks.
  size_t defs_lines = static_cast<size_t>(std::count(defs.begin(), defs.end(), '\n')) + 1;
  size_t row = 2;
  auto at = [&](size_t index) { return "bad.csv:" + std::to_string(row + index * defs_lines) + ": "; };
  has(0, at(0) + "function_call:1:");
  has(0, "invalid JSON");
  has(1, at(1) + R"(function_call: call 0 to "categorize_emergency": argument "emergency_detail": "Explosion" is not one of)");
  has(2, at(2) + R"(function_call: call 0: function "call_coastguard" is not defined (defined: categorize_emergency, broadcast_emergency_message))");
  has(3, at(3) + R"(gps: the system template needs variable "gps")");
  has(4, "bad.csv:" + std::to_string(row + 4 * defs_lines) + ": function_definitions:1:");
  has(5, ": user_query: expected the user's message");
  has(6, R"(argument "severity")");
  has(7, "expected 4 cells as in the header, got 3");
}

TEST(CsvDataset, FileLevelProblemsThrowOneLine) {
  EXPECT_THROW(parse_dataset("", DatasetFormat::csv, "e.csv"), Error);
  try {
    parse_dataset("user_query,function_call\nhi,[]\n", DatasetFormat::csv, "h.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "h.csv:1: header has no \"function_definitions\" column (expected function_definitions, user_query, function_call)");
  }
  try {
    parse_dataset("function_definitions,user_query,function_call\n\"[]\",\"hi,[]\n", DatasetFormat::csv, "q.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "q.csv:2: unbalanced quotes: the quoted cell opened on line 2 is never closed");
  }
}

TEST(JsonlDataset, MultiTurnWithToolCallsAndPlainTextTurns) {
  std::string tools = Json::parse(maritime_functions()).dump();
  std::string line1 = R"({"messages": [{"role": "user", "content": "hi, is the radio working?"},)"
                      R"( {"role": "assistant", "content": "Yes, I can hear you."},)"
                      R"( {"role": "user", "content": "FIRE ON BOARD"},)"
                      R"( {"role": "assistant", "content": null, "tool_calls": [)"
                      R"({"id": "c1", "type": "function", "function": {"name": "categorize_emergency", "arguments": "{\"emergency_detail\": \"Fire\"}"}},)"
                      R"({"id": "c2", "type": "function", "function": {"name": "broadcast_emergency_message", "arguments": {"location": "1N, 2W", "emergency_detail": "Fire", "emergency_type": "Mayday"}}}]},)"
                      R"( {"role": "tool", "tool_call_id": "c1", "content": "ok"}], "tools": )" + tools +
                      R"(, "variables": {"gps": "1N, 2W"}})";
  std::string line2 = R"({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"name": "categorize_emergency", "arguments": {"emergency_detail": "Storm"}}]}], "tools": )" + tools + "}";
  std::string line3 = R"({"messages": [{"role": "user", "content": "x"}], "tools": []})";
  std::string line4 = R"({"messages": [{"role": "captain", "content": "x"}]})";
  auto dataset = parse_dataset(line1 + "\n\n" + line2 + "\r\n" + line3 + "\n" + line4 + "\n{oops\n", DatasetFormat::jsonl, "c.jsonl");
  ASSERT_EQ(dataset.examples.size(), 1u);
  const Example& e = dataset.examples[0];
  EXPECT_EQ(e.line, 1u);
  auto turns = e.expected_calls();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_TRUE(turns[0].empty());
  ASSERT_EQ(turns[1].size(), 2u);
  EXPECT_EQ(turns[1][0].arguments["emergency_detail"], "Fire");
  EXPECT_EQ(e.variables.at("gps"), "1N, 2W");
  ASSERT_EQ(dataset.errors.size(), 4u);
  EXPECT_NE(dataset.errors[0].find("c.jsonl:3: messages[1].tool_calls: call 0 to \"categorize_emergency\": argument \"emergency_detail\": \"Storm\""), std::string::npos) << dataset.errors[0];
  EXPECT_NE(dataset.errors[1].find("c.jsonl:4: messages: expected at least one assistant turn"), std::string::npos) << dataset.errors[1];
  EXPECT_NE(dataset.errors[2].find("c.jsonl:5: messages[0]: \"role\" must be"), std::string::npos) << dataset.errors[2];
  EXPECT_NE(dataset.errors[3].find("c.jsonl:6:1:"), std::string::npos) << dataset.errors[3];
}

TEST(FillTemplate, SubstitutesAndNamesMissingVariable) {
  std::string missing;
  EXPECT_EQ(fill_template("at {{ gps }} / {{x}}", {{"gps", "1N"}, {"x", "y"}}, &missing), "at 1N / y");
  EXPECT_TRUE(missing.empty());
  EXPECT_EQ(fill_template("at {{ gps }}", {}, &missing), "");
  EXPECT_EQ(missing, "gps");
}

}  // namespace
}  // namespace slmtune::data
