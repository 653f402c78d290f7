// `slmtune data validate` and `slmtune data split` end to end: the bundled maritime data passes, every
// bad row of a broken file is listed in one run, an all-bad file says so, and splits are stratified and
// reproducible.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>

#include "core/atomic_file.hpp"
#include "support/test_support.hpp"

using slmtune::testing::run_slmtune;
using slmtune::testing::source_dir;
using slmtune::testing::TempDir;
using slmtune::testing::write_text;

namespace {

// Built with fmt: GCC 12 warns falsely (-Wrestrict) on a literal + std::string here.
std::string quote_path(const std::filesystem::path& path) { return fmt::format("'{}'", path.string()); }

size_t count_lines(const std::string& text, const std::string& prefix) {
  size_t n = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    n += text.compare(pos, prefix.size(), prefix) == 0;
    pos = end + 1;
  }
  return n;
}

const std::string kDefs = R"("[{""name"": ""f"", ""parameters"": {""type"": ""object"", ""properties"": {""k"": {""type"": ""string"", ""enum"": [""a"", ""b""]}}, ""required"": [""k""]}}]")";

TEST(DataCli, MaritimeDataValidates) {
  auto maritime = source_dir() / "examples/maritime";
  for (const char* name : {"train.csv", "validation.csv", "test.csv"}) {
    auto result = run_slmtune(fmt::format("data validate {} --system-file {}", quote_path(maritime / "data" / name),
                                          quote_path(maritime / "system_prompt.txt")));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("rows valid"), std::string::npos) << result.out;
  }
}

TEST(DataCli, ValidateListsEveryErrorAndFails) {
  TempDir dir;
  std::string text = "function_definitions,user_query,function_call,gps\n";
  text += kDefs + R"(,ok,"[{""name"": ""f"", ""arguments"": {""k"": ""a""}}]",1N)" "\n";
  text += kDefs + R"(,bad enum,"[{""name"": ""f"", ""arguments"": {""k"": ""c""}}]",1N)" "\n";
  text += kDefs + R"(,undefined,"[{""name"": ""g"", ""arguments"": {}}]",1N)" "\n";
  text += kDefs + R"(,broken json,"[{""name"": ",1N)" "\n";
  text += kDefs + R"(,no gps,"[]",)" "\n";
  write_text(dir / "d.csv", text);
  auto result = run_slmtune(fmt::format("data validate {} --system 'at {{{{ gps }}}}'", quote_path(dir / "d.csv")));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(count_lines(result.err, "error: "), 5u) << result.err;  // four rows, then the summary
  EXPECT_NE(result.err.find("d.csv:3: function_call: call 0 to \"f\": argument \"k\": \"c\" is not one of [\"a\", \"b\"]"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("d.csv:4: function_call: call 0: function \"g\" is not defined"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("d.csv:5: function_call:1:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("d.csv:6: gps: the system template needs variable \"gps\""), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("4 errors in 4 of 5 rows"), std::string::npos) << result.err;
}

TEST(DataCli, AllBadDatasetSaysNothingToTrainOn) {
  TempDir dir;
  write_text(dir / "bad.csv", "function_definitions,user_query,function_call\n\"[]\",hi,\"[{\"\"name\"\": \"\"x\"\"}]\"\n");
  auto result = run_slmtune(fmt::format("data validate {}", quote_path(dir / "bad.csv")));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("all 1 rows have errors: nothing to train on"), std::string::npos) << result.err;
  write_text(dir / "open.csv", "function_definitions,user_query,function_call\n\"[]\",\"hi,[]\n");
  result = run_slmtune(fmt::format("data validate {}", quote_path(dir / "open.csv")));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, fmt::format("error: {}:2: unbalanced quotes: the quoted cell opened on line 2 is never closed\n", (dir / "open.csv").string()));
}

TEST(DataCli, SplitIsStratifiedAndReproducible) {
  TempDir dir;
  std::string text = "function_definitions,user_query,function_call,response\n";
  for (int i = 0; i < 40; ++i) text += kDefs + fmt::format(R"(,call {},"[{{""name"": ""f"", ""arguments"": {{""k"": ""a""}}}}]",)", i) + "\n";
  for (int i = 0; i < 20; ++i) text += kDefs + fmt::format(",plain {},[],answer {}\n", i, i);
  write_text(dir / "all.csv", text);
  auto split = [&](const std::string& out, int seed) {
    return run_slmtune(fmt::format("data split {} --ratios 0.5,0.25,0.25 --seed {} --out {}", quote_path(dir / "all.csv"), seed,
                                   quote_path(dir / out)));
  };
  auto first = split("a", 3);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(split("b", 3).exit_code, 0);
  ASSERT_EQ(split("c", 4).exit_code, 0);
  for (const char* part : {"train.csv", "validation.csv", "test.csv"})
    EXPECT_EQ(slmtune::read_file(dir / "a" / part), slmtune::read_file(dir / "b" / part)) << part;
  EXPECT_NE(slmtune::read_file(dir / "a" / "test.csv"), slmtune::read_file(dir / "c" / "test.csv"));
  std::string test_part = slmtune::read_file(dir / "a" / "test.csv");
  EXPECT_EQ(count_lines(test_part, kDefs + ",call"), 10u);
  EXPECT_EQ(count_lines(test_part, kDefs + ",plain"), 5u);
  // The parts validate on their own.
  auto validated = run_slmtune(fmt::format("data validate {}", quote_path(dir / "a" / "train.csv")));
  EXPECT_EQ(validated.exit_code, 0) << validated.err;
  EXPECT_NE(validated.out.find("30 rows valid"), std::string::npos) << validated.out;
}

}  // namespace

namespace {

TEST(DataCli, SynthWritesValidDistinctRows) {
  TempDir dir;
  auto maritime = source_dir() / "examples/maritime";
  auto result = run_slmtune(fmt::format("data synth {} -n 40 --seed 5 --exclude {} --out {}", quote_path(maritime / "synth.yaml"),
                                        quote_path(maritime / "data/test.csv"), quote_path(dir / "s.csv")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("40 rows"), std::string::npos) << result.out;
  auto validated = run_slmtune(fmt::format("data validate {}", quote_path(dir / "s.csv")));
  EXPECT_EQ(validated.exit_code, 0) << validated.err;
  EXPECT_NE(validated.out.find("40 rows valid"), std::string::npos) << validated.out;
}

}  // namespace
