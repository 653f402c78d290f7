// `slmtune eval` end to end on a tiny random Llama (`new-model --preset tiny-llama`) with a byte-level
// BPE trained on the maritime data and Qwen2.5's chat template: the metrics of a random model are
// whatever they are, but the JSON contract (the six keys first, fractions in [0, 1], n, the counts
// behind each fraction), the adapter being applied, the prompt-format saving and the one-line errors
// are checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "core/atomic_file.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "formats/json.hpp"
#include "model/weights.hpp"
#include "peft/adapter_io.hpp"
#include "peft/lora_model.hpp"
#include "support/test_support.hpp"
#include "tiny_chat_model.hpp"

using slmtune::testing::CommandResult;
using slmtune::testing::expect_one_line_error;
using slmtune::testing::run_slmtune;
using slmtune::testing::shell_quote;
using slmtune::testing::source_dir;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;
using slmtune::testing::write_text;

namespace {

const char* const kGps = "42.3541N, 71.0654W";

std::string alert(const std::string& detail, const std::string& type) {
  return R"([{"name": "categorize_emergency", "arguments": {"emergency_detail": ")" + detail + R"("}}, )"
         R"({"name": "broadcast_emergency_message", "arguments": {"location": ")" + std::string(kGps) +
         R"(", "emergency_detail": ")" + detail + R"(", "emergency_type": ")" + type + R"("}}])";
}

class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    model_ = (dir_->path() / "model").string();
    slmtune::testing::make_tiny_chat_model(model_);
    if (::testing::Test::HasFatalFailure()) return;

    const std::string functions = slmtune::read_file(source_dir() / "examples/maritime/functions.json");
    std::string csv = slmtune::data::csv_record({"function_definitions", "user_query", "function_call", "gps"});
    csv += slmtune::data::csv_record({functions, "we are taking on water", alert("Flooding", "Mayday"), kGps});
    csv += slmtune::data::csv_record({functions, "thanks, all fine now", "[]", kGps});
    csv += slmtune::data::csv_record({functions, "engine quit, calm sea", alert("Engine Failure", "PAN-PAN"), kGps});
    data_ = (dir_->path() / "rows.csv").string();
    write_text(data_, csv);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // `global` goes before the subcommand (-v, -q).
  static std::string base_args(const std::string& global = "", const std::string& max_new_tokens = "6") {
    return global + " eval --model " + shell_quote(model_) + " --data " + shell_quote(data_) + " --system-file " +
           shell_quote(source_dir() / "examples/maritime/system_prompt.txt") + " --max-new-tokens " + max_new_tokens;
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string model_, data_;
};

slmtune::Json parse_single_json(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "expected exactly one line:\n" << r.out;
  return slmtune::Json::parse(r.out);
}

TEST_F(EvalCli, JsonHasTheSixKeysFirstWithFractionsAndCounts) {
  const auto r = run_slmtune(base_args() + " --json");
  slmtune::Json j = parse_single_json(r);
  std::vector<std::string> keys;
  for (const auto& [key, unused] : j.items()) keys.push_back(key);
  ASSERT_GE(keys.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + 6),
            (std::vector<std::string>{"exact_match", "name_accuracy", "argument_accuracy", "json_valid", "no_call_accuracy", "n"}));
  EXPECT_EQ(j["n"], 3);
  for (const char* key : {"exact_match", "name_accuracy", "argument_accuracy", "json_valid", "no_call_accuracy"}) {
    ASSERT_TRUE(j[key].is_number()) << key << ": " << j[key];
    EXPECT_GE(j[key].get<double>(), 0.0) << key;
    EXPECT_LE(j[key].get<double>(), 1.0) << key;
    const auto& c = j["counts"][key];
    EXPECT_DOUBLE_EQ(j[key].get<double>(), c["correct"].get<double>() / c["total"].get<double>()) << key;
  }
  // 3 rows; 2 expect alerts of 4 arguments each; 1 expects no call.
  EXPECT_EQ(j["counts"]["exact_match"]["total"], 3);
  EXPECT_EQ(j["counts"]["name_accuracy"]["total"], 2);
  EXPECT_EQ(j["counts"]["argument_accuracy"]["total"], 8);
  EXPECT_EQ(j["counts"]["no_call_accuracy"]["total"], 1);
  EXPECT_EQ(j["confusion"]["argument"], "emergency_type");
  int64_t tallied = 0;
  for (const auto& [expected, row] : j["confusion"]["expected_predicted"].items())
    for (const auto& [predicted, count] : row.items()) tallied += count.get<int64_t>();
  EXPECT_EQ(tallied, 3);
  EXPECT_GT(j["prompt_tokens_per_query"].get<double>(), 100.0);  // the tools and system prompt are in it
  EXPECT_LE(j["generated_tokens_per_query"].get<double>(), 6.0);
  EXPECT_GT(j["latency_ms_per_query"].get<double>(), 0.0);
  EXPECT_EQ(j["prompt_format"], "definitions_in_prompt");
  // Not a terminal: one progress line per row on stderr, naming the row.
  for (const char* row : {"eval 1/3 ", "eval 2/3 ", "eval 3/3 "}) EXPECT_NE(r.err.find(row), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rows.csv:2: "), std::string::npos) << r.err;

  // Greedy: the same run gives the same scores.
  slmtune::Json again = parse_single_json(run_slmtune(base_args() + " --json"));
  EXPECT_EQ(again["counts"], j["counts"]);
  EXPECT_EQ(again["prompt_tokens_per_query"], j["prompt_tokens_per_query"]);
}

TEST_F(EvalCli, PredictionsFileHasOneRecordPerRowAgreeingWithTheCounts) {
  TempDir out;
  const auto path = out.path() / "predictions.jsonl";
  slmtune::Json j = parse_single_json(run_slmtune(base_args() + " --json --predictions " + shell_quote(path)));
  const std::string text = slmtune::read_file(path);
  std::vector<slmtune::Json> rows;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    rows.push_back(slmtune::Json::parse(text.substr(start, end - start)));
  ASSERT_EQ(rows.size(), 3u) << text;
  const std::vector<std::string> queries = {"we are taking on water", "thanks, all fine now", "engine quit, calm sea"};
  int64_t exact = 0, valid = 0, wrong_arguments = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["source"], data_);
    // The line where the row starts (the functions cell spans many lines; the header is line 1).
    if (i == 0) {
      EXPECT_EQ(rows[i]["line"], 2);
    } else {
      EXPECT_GT(rows[i]["line"].get<int64_t>(), rows[i - 1]["line"].get<int64_t>() + 1);
    }
    EXPECT_EQ(rows[i]["query"], queries[i]);
    EXPECT_EQ(rows[i]["variables"]["gps"], kGps);
    EXPECT_TRUE(rows[i]["output"].is_string());
    EXPECT_LE(rows[i]["generated_tokens"].get<int64_t>(), 6);
    exact += rows[i]["exact_match"].get<bool>() ? 1 : 0;
    valid += rows[i]["json_valid"].get<bool>() ? 1 : 0;
    wrong_arguments += static_cast<int64_t>(rows[i]["wrong_arguments"].size());
  }
  EXPECT_EQ(rows[0]["expected"], slmtune::Json::parse(alert("Flooding", "Mayday")));
  EXPECT_EQ(rows[1]["expected"], slmtune::Json::array());
  EXPECT_EQ(exact, j["counts"]["exact_match"]["correct"]);
  EXPECT_EQ(valid, j["counts"]["json_valid"]["correct"]);
  EXPECT_EQ(wrong_arguments,
            j["counts"]["argument_accuracy"]["total"].get<int64_t>() - j["counts"]["argument_accuracy"]["correct"].get<int64_t>());

  // A run that fails writes nothing.
  const auto failed = out.path() / "failed.jsonl";
  expect_one_line_error(run_slmtune(base_args("", "0") + " --predictions " + shell_quote(failed)), "--max-new-tokens");
  EXPECT_FALSE(std::filesystem::exists(failed));
}

TEST_F(EvalCli, JsonOutFileHoldsTheJsonObjectWhileTheTableGoesToStdout) {
  TempDir out;
  const auto path = out.path() / "eval.json";
  const auto r = run_slmtune(base_args() + " --json-out " + shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("exact_match"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("emergency_type confusion"), std::string::npos) << r.out;
  const std::string written = slmtune::read_file(path);
  EXPECT_EQ(written.find('\n'), written.size() - 1) << "expected exactly one line:\n" << written;
  slmtune::Json from_file = slmtune::Json::parse(written);
  slmtune::Json printed = parse_single_json(run_slmtune(base_args() + " --json"));
  // Latency differs between runs; everything else is the same greedy run.
  for (auto* j : {&from_file, &printed}) j->erase("latency_ms_per_query");
  EXPECT_EQ(from_file, printed);

  // A run that fails writes nothing.
  const auto failed = out.path() / "failed.json";
  expect_one_line_error(run_slmtune(base_args("", "0") + " --json-out " + shell_quote(failed)), "--max-new-tokens");
  EXPECT_FALSE(std::filesystem::exists(failed));
}

TEST_F(EvalCli, TableOnStdoutWithoutJson) {
  const auto r = run_slmtune(base_args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* row : {"exact_match", "name_accuracy", "argument_accuracy", "  location", "json_valid",
                          "no_call_accuracy", "ms/query", "emergency_type confusion"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
  EXPECT_EQ(r.out.find('{'), std::string::npos) << r.out;
}

TEST_F(EvalCli, FunctionalTokensSavePromptTokens) {
  slmtune::Json defs = parse_single_json(run_slmtune(base_args() + " --json"));
  const auto r = run_slmtune(base_args() + " --json --prompt-format functional_tokens");
  slmtune::Json fn = parse_single_json(r);
  EXPECT_EQ(fn["prompt_format"], "functional_tokens");
  EXPECT_LT(fn["prompt_tokens_per_query"].get<double>() + 100.0, defs["prompt_tokens_per_query"].get<double>());
  // The trained tokenizer has no <fn_...> tokens: a warning says so.
  EXPECT_NE(r.err.find("<fn_categorize_emergency>"), std::string::npos) << r.err;
}

TEST_F(EvalCli, ConstrainedDecodingIsOffByDefaultAndSaysWhenOn) {
  EXPECT_EQ(parse_single_json(run_slmtune(base_args() + " --json"))["constrained"], false);
  const slmtune::Json on = parse_single_json(run_slmtune(base_args() + " --json --constrained"));
  EXPECT_EQ(on["constrained"], true);
  EXPECT_EQ(on["n"], 3);
  EXPECT_EQ(parse_single_json(run_slmtune(base_args() + " --json --constrained --no-constrained"))["constrained"], false);
}

TEST_F(EvalCli, AdapterIsAttached) {
  // A LoRA adapter with non-zero B on every attention projection changes what the model generates.
  TempDir adapter;
  auto weights = std::make_shared<const slmtune::ModelWeights>(slmtune::ModelWeights::load(model_));
  slmtune::peft::LoraConfig config;
  config.r = 4;
  config.lora_alpha = 8;
  config.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj"};
  slmtune::peft::LoraModel lora(config, weights, 7);
  for (size_t i = 0; i < lora.size(); ++i) {
    auto b = lora.adapter(i).lora_B();
    for (size_t k = 0; k < b.size(); ++k) b[k] = (k % 7 == 0 ? 2.0f : -1.0f) * (1.0f + static_cast<float>(k % 3));
  }
  slmtune::peft::save_adapter(lora, adapter.path());

  const auto plain = run_slmtune(base_args("-vv") + " --json");
  const auto adapted = run_slmtune(base_args("-vv") + " --json --adapter " + shell_quote(adapter.path()));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(adapted.exit_code, 0) << adapted.err;
  EXPECT_EQ(slmtune::Json::parse(adapted.out)["n"], 3);
  EXPECT_EQ(slmtune::Json::parse(adapted.out)["adapter"], adapter.path().string());
  // -vv logs each row's generated text ("debug: FILE:LINE: TEXT", before the next row's line).
  auto replies = [](const std::string& err) {
    const std::string marker = "debug: " + data_ + ":";
    std::string out;
    for (size_t pos = err.find(marker); pos != std::string::npos; pos = err.find(marker, pos + 1)) {
      size_t end = err.find("\neval ", pos);
      out += err.substr(pos, end == std::string::npos ? std::string::npos : end - pos) + "\n";
    }
    return out;
  };
  const std::string plain_replies = replies(plain.err), adapted_replies = replies(adapted.err);
  EXPECT_GE(std::count(plain_replies.begin(), plain_replies.end(), '\n'), 3) << plain.err;
  EXPECT_NE(plain_replies, adapted_replies);

  TempDir empty;
  expect_one_line_error(run_slmtune(base_args() + " --adapter " + shell_quote(empty.path())), "adapter_config.json");
}

TEST_F(EvalCli, RowErrorsAreOneLineWithFileAndLine) {
  const std::string functions = slmtune::read_file(source_dir() / "examples/maritime/functions.json");
  std::string csv = slmtune::data::csv_record({"function_definitions", "user_query", "function_call", "gps"});
  csv += slmtune::data::csv_record({functions, "fire!", alert("Fire", "Mayday"), kGps});
  csv += slmtune::data::csv_record({functions, "fire!", alert("Fire", "mayday"), kGps});
  // Cells hold multi-line JSON: the second row starts after the header and the first row's lines.
  const std::string first_row = slmtune::data::csv_record({functions, "fire!", alert("Fire", "Mayday"), kGps});
  const std::string second_line = std::to_string(2 + std::count(first_row.begin(), first_row.end(), '\n'));
  TempDir dir;
  write_text(dir / "bad.csv", csv);
  const std::string args = "eval --model " + shell_quote(model_) + " --data " + shell_quote(dir / "bad.csv");
  expect_one_line_error(run_slmtune(args), "bad.csv:" + second_line + ": function_call:");

  csv += slmtune::data::csv_record({functions, "fire!", R"([{"name": "call_coastguard", "arguments": {}}])", kGps});
  write_text(dir / "bad2.csv", csv);
  const auto two = run_slmtune("eval --model " + shell_quote(model_) + " --data " + shell_quote(dir / "bad2.csv"));
  expect_one_line_error(two, "bad2.csv:" + second_line + ": ");
  EXPECT_NE(two.err.find("and 1 more"), std::string::npos) << two.err;

  // A {{ gps }} system prompt with a row lacking the column.
  std::string no_gps = slmtune::data::csv_record({"function_definitions", "user_query", "function_call"}) +
                       slmtune::data::csv_record({functions, "fire!", alert("Fire", "Mayday")});
  write_text(dir / "nogps.csv", no_gps);
  expect_one_line_error(run_slmtune("eval --model " + shell_quote(model_) + " --data " + shell_quote(dir / "nogps.csv") +
                                    " --system-file " + shell_quote(source_dir() / "examples/maritime/system_prompt.txt")),
                        "nogps.csv:2");
}

TEST_F(EvalCli, BadOptionsAreOneLineErrors) {
  expect_one_line_error(run_slmtune(base_args() + " --prompt-format octopus"), "octopus");
  expect_one_line_error(run_slmtune(base_args("", "0")), "--max-new-tokens");
  expect_one_line_error(run_slmtune("eval --model " + shell_quote(model_) + " --data /nonexistent/rows.csv"),
                        "/nonexistent/rows.csv");
}

TEST_F(EvalCli, MaritimeTestSplitIsEvaluatedRowForRow) {
  const auto split = source_dir() / "examples/maritime/data/test.csv";
  slmtune::data::LoadOptions options;
  options.system_template = slmtune::read_file(source_dir() / "examples/maritime/system_prompt.txt");
  const auto dataset = slmtune::data::load_dataset(split, options);
  ASSERT_TRUE(dataset.errors.empty()) << dataset.errors.front();
  const auto r = run_slmtune("eval --model " + shell_quote(model_) + " --data " + shell_quote(split) + " --system-file " +
                             shell_quote(source_dir() / "examples/maritime/system_prompt.txt") + " --max-new-tokens 2 --json");
  slmtune::Json j = parse_single_json(r);
  EXPECT_EQ(j["n"].get<size_t>(), dataset.examples.size());
}

}  // namespace
