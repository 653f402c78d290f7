// The CSV reader against RFC 4180's examples and Python's csv module (csv_golden.json, written by
// make_csv_golden.py), and the writer's output read back.
#include <gtest/gtest.h>

#include <fstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/csv_reader.hpp"
#include "data/csv_writer.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"

namespace slmtune::data {
namespace {

TEST(CsvReader, MatchesPythonCsvModule) {
  Json cases = read_json_file(slmtune::testing::source_dir() / "tests/data/csv_golden.json");
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    std::string input = c["input"].get<std::string>();
    SCOPED_TRACE(Json(input).dump());
    auto records = read_csv(input, "golden.csv");
    ASSERT_EQ(records.size(), c["records"].size());
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].line, c["records"][i]["line"].get<size_t>());
      EXPECT_EQ(records[i].cells, c["records"][i]["cells"].get<std::vector<std::string>>());
    }
  }
}

TEST(CsvReader, SkipsUtf8ByteOrderMark) {
  auto records = read_csv("\xEF\xBB\xBF" "a,b\r\n1,2\r\n", "bom.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].cells[0], "a");
}

TEST(CsvReader, UnbalancedQuoteNamesFileAndLine) {
  try {
    read_csv("a,b\n1,2\n3,\"never closed\n4,5\n", "bad.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bad.csv:3: unbalanced quotes: the quoted cell opened on line 3 is never closed");
  }
}

TEST(CsvWriter, QuotesOnlyWhereNeededAndRoundTrips) {
  EXPECT_EQ(csv_cell("plain"), "plain");
  EXPECT_EQ(csv_cell("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  std::vector<std::vector<std::string>> rows = {{"x", "multi\nline", "q\"uote", ""}, {""}, {"Securité", "a,b", "\r\n", " "}};
  std::string text;
  for (const auto& row : rows) text += csv_record(row);
  auto records = read_csv(text, "rt.csv");
  ASSERT_EQ(records.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(records[i].cells, rows[i]);
}

// The fuzzer's find: a first cell that starts with a byte-order mark must not be mistaken for the
// file's BOM when read back.
TEST(CsvWriter, LeadingByteOrderMarkInACellSurvives) {
  const std::vector<std::string> row = {"\xEF\xBB\xBF" "a", "b"};
  EXPECT_EQ(csv_cell(row[0]), "\"\xEF\xBB\xBF" "a\"");
  auto records = read_csv(csv_record(row), "bom.csv");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].cells, row);
}

}  // namespace
}  // namespace slmtune::data
