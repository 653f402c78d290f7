// `slmtune data validate FILE`, `slmtune data split FILE --ratios … --seed S --out DIR` and
// `slmtune data synth TEMPLATE -n N [--teacher-url URL …] --out FILE`: check a function-calling dataset
// (the article's CSV or chat JSONL) row by row before training, cut it into stratified
// train/validation/test files or k folds, and generate synthetic rows from a template and a teacher model.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/command.hpp"
#include "client/chat_client.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "data/split.hpp"
#include "data/synth.hpp"

namespace slmtune::cli {
namespace {

namespace fs = std::filesystem;

struct DataOptions {
  std::string file;
  std::string system_template;
  std::string system_file;
  std::string ratios = "0.8,0.1,0.1";
  uint64_t seed = 0;
  int folds = 0;
  std::string out;
  size_t count = 100;
  std::vector<std::string> exclude;
  // data synth's teacher: an OpenAI-compatible chat-completions endpoint
  std::string teacher_url;
  std::string teacher_model;
  std::string teacher_key;
  size_t teacher_count = 50;
  size_t teacher_batch = 10;
  double teacher_temperature = 0.7;
  double teacher_timeout = 300;
  int teacher_retries = 3;
};

data::LoadOptions load_options(const DataOptions& options) {
  data::LoadOptions load;
  load.system_template = options.system_template;
  if (!options.system_file.empty()) load.system_template = read_file(options.system_file);
  return load;
}

// Prints every row error and fails when there is any, so a bad dataset never trains.
data::Dataset load_checked(const DataOptions& options) {
  data::Dataset dataset = data::load_dataset(options.file, load_options(options));
  for (const auto& error : dataset.errors) fmt::print(stderr, "error: {}\n", error);
  if (dataset.rows == 0) fail("{}: no rows: the dataset is empty", options.file);
  if (dataset.examples.empty())
    fail("{}: all {} rows have errors: nothing to train on", options.file, dataset.rows);
  if (!dataset.errors.empty())
    fail("{}: {} errors in {} of {} rows", options.file, dataset.errors.size(), dataset.rows - dataset.examples.size(),
         dataset.rows);
  return dataset;
}

void run_validate(const DataOptions& options) {
  data::Dataset dataset = load_checked(options);
  size_t calls = 0, no_call = 0;
  for (const auto& example : dataset.examples)
    for (const auto& turn : example.expected_calls()) {
      calls += turn.size();
      no_call += turn.empty();
    }
  fmt::print("{}: {} rows valid ({} calls, {} turns with no call)\n", options.file, dataset.examples.size(), calls, no_call);
}

std::vector<double> parse_ratios(const std::string& text) {
  std::vector<double> ratios;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    double value = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty())
      fail("--ratios: expected comma-separated numbers such as 0.8,0.1,0.1, got \"{}\"", text);
    ratios.push_back(value);
    pos = comma + 1;
  }
  return ratios;
}

std::vector<std::string> part_names(size_t parts) {
  if (parts == 3) return {"train", "validation", "test"};
  if (parts == 2) return {"train", "test"};
  std::vector<std::string> names;
  for (size_t i = 0; i < parts; ++i) names.push_back(fmt::format("part{}", i));
  return names;
}

std::string write_part(const data::Dataset& dataset, const std::vector<int>& assignment, int part) {
  std::string text;
  if (dataset.format == data::DatasetFormat::csv) text = data::csv_record(dataset.csv_header);
  for (size_t i = 0; i < assignment.size(); ++i) {
    if (assignment[i] != part) continue;
    if (dataset.format == data::DatasetFormat::csv) text += data::csv_record(dataset.csv_rows[i]);
    else text += dataset.jsonl_lines[i] + "\n";
  }
  return text;
}

void run_split(const DataOptions& options) {
  data::Dataset dataset = load_checked(options);
  fs::create_directories(options.out);
  std::string ext = dataset.format == data::DatasetFormat::csv ? ".csv" : ".jsonl";
  std::vector<int> assignment;
  std::vector<std::string> names;
  if (options.folds > 0) {
    assignment = data::fold_assignment(dataset.examples, options.folds, options.seed);
    for (int k = 0; k < options.folds; ++k) names.push_back(fmt::format("fold{}", k));
  } else {
    std::vector<double> ratios = parse_ratios(options.ratios);
    assignment = data::split_assignment(dataset.examples, ratios, options.seed);
    names = part_names(ratios.size());
  }
  for (size_t p = 0; p < names.size(); ++p) {
    fs::path path = fs::path(options.out) / (names[p] + ext);
    write_file_atomically(path, write_part(dataset, assignment, static_cast<int>(p)));
    size_t count = static_cast<size_t>(std::count(assignment.begin(), assignment.end(), static_cast<int>(p)));
    fmt::print("{}\t{}\n", path.string(), count);
  }
}

void run_synth(const DataOptions& options) {
  data::SynthOptions synth;
  synth.count = options.count;
  synth.seed = options.seed;
  for (const auto& path : options.exclude) synth.exclude.emplace_back(path);
  if (!options.teacher_url.empty()) {
    client::ChatClientOptions chat;
    chat.url = options.teacher_url;
    chat.model = options.teacher_model;
    chat.api_key = options.teacher_key;
    // As OpenAI's own clients do. The flag wins; the variable keeps the key out of `ps` and shell history.
    if (chat.api_key.empty())
      if (const char* key = std::getenv("OPENAI_API_KEY")) chat.api_key = key;
    chat.temperature = options.teacher_temperature;
    chat.timeout_s = options.teacher_timeout;
    chat.retries = options.teacher_retries;
    synth.teacher.ask = [chat](const Json& messages) { return client::chat_complete(chat, messages); };
    synth.teacher.name = client::chat_completions_url(chat.url);
    synth.teacher.count = options.teacher_count;
    synth.teacher.per_request = options.teacher_batch;
  }
  data::SynthResult result = data::synthesize(options.file, synth);
  write_file_atomically(options.out, result.csv);
  fmt::print("{}\t{} rows ({} duplicates dropped)\n", options.out, result.rows, result.duplicates);
  if (synth.teacher.ask)
    fmt::print("{}; {} row{} added from {} request{}\n", data::teacher_summary(result.teacher), result.teacher.accepted,
               result.teacher.accepted == 1 ? "" : "s", result.teacher.requests, result.teacher.requests == 1 ? "" : "s");
}

const CommandRegistration registration(15, [](CLI::App& app) {
  auto* data = app.add_subcommand("data", "Validate and split function-calling datasets (.csv as in the article, .jsonl chats)");
  data->require_subcommand(1);
  auto add_common = [](CLI::App* cmd, const std::shared_ptr<DataOptions>& options) {
    cmd->add_option("file", options->file, "Dataset: .csv (function_definitions,user_query,function_call[,gps…]) or .jsonl")
        ->required();
    cmd->add_option("--system", options->system_template, "System-message template with {{ var }} placeholders (e.g. {{ gps }})");
    cmd->add_option("--system-file", options->system_file, "File holding the system-message template");
  };
  auto validate_options = std::make_shared<DataOptions>();
  auto* validate = data->add_subcommand("validate", "Check every row; list all errors; exit 1 if any");
  add_common(validate, validate_options);
  validate->callback([validate_options] { run_validate(*validate_options); });

  auto split_options = std::make_shared<DataOptions>();
  auto* split = data->add_subcommand("split", "Stratified train/validation/test split (or k folds) by the called functions");
  add_common(split, split_options);
  split->add_option("--ratios", split_options->ratios, "Comma-separated fractions summing to 1 (default 0.8,0.1,0.1)");
  split->add_option("--seed", split_options->seed, "Shuffle seed (default 0)");
  split->add_option("--folds", split_options->folds, "Write K folds fold0…fold{K-1} instead of a ratio split");
  split->add_option("--out", split_options->out, "Output directory")->required();
  split->callback([split_options] { run_split(*split_options); });

  auto synth_options = std::make_shared<DataOptions>();
  auto* synth = data->add_subcommand("synth", "Expand a template (slots, paraphrases) into N distinct, validated CSV rows");
  synth->add_option("template", synth_options->file, "Template file (.yaml), see examples/maritime/synth.yaml")->required();
  synth->add_option("-n", synth_options->count, "Template rows to generate (default 100; -n 0 with --teacher-url: the teacher's only)");
  synth->add_option("--seed", synth_options->seed, "Seed (default 0)");
  synth->add_option("--exclude", synth_options->exclude, "Dataset whose queries must not be generated (repeatable)");
  synth->add_option("--out", synth_options->out, "Output .csv")->required();
  auto* teacher_url = synth->add_option("--teacher-url", synth_options->teacher_url,
                                        "OpenAI-compatible API base of a teacher model that writes more rows "
                                        "(POST URL/chat/completions), e.g. http://127.0.0.1:8080/v1");
  auto needs_url = [&](CLI::Option* option) { option->needs(teacher_url); };
  needs_url(synth->add_option("--teacher-model", synth_options->teacher_model,
                              "The request's \"model\" (OpenAI, vLLM and Ollama need it; llama-server ignores it)"));
  needs_url(synth->add_option("--teacher-key", synth_options->teacher_key,
                              "API key sent as a Bearer token (default: $OPENAI_API_KEY)"));
  needs_url(synth->add_option("--teacher-count", synth_options->teacher_count, "Examples to request from the teacher (default 50)")
                ->check(CLI::Range(size_t{1}, size_t{100000})));
  needs_url(synth->add_option("--teacher-batch", synth_options->teacher_batch, "Examples asked for per request (default 10)")
                ->check(CLI::Range(size_t{1}, size_t{1000})));
  needs_url(synth->add_option("--teacher-temperature", synth_options->teacher_temperature, "Sampling temperature (default 0.7)")
                ->check(CLI::Range(0.0, 2.0)));
  needs_url(synth->add_option("--teacher-timeout", synth_options->teacher_timeout,
                              "Seconds one request may take (default 300: a teacher on CPUs writes slowly)")
                ->check(CLI::PositiveNumber));
  needs_url(synth->add_option("--teacher-retries", synth_options->teacher_retries,
                              "Retries after HTTP 429 or 5xx, waiting 1, 2, 4… s or the server's Retry-After (default 3)")
                ->check(CLI::Range(0, 20)));
  synth->footer(
      "Every teacher example is validated and deduplicated like a template row; the rejected ones are counted by "
      "reason,\nand each rejection is listed on stderr with its error (-q hides them, -vv adds the duplicates).\n\n"
      "Example, with a teacher served by llama.cpp (llama-server -m teacher.gguf --port 8080):\n"
      "  slmtune data synth examples/maritime/synth.yaml -n 100 --teacher-url http://127.0.0.1:8080/v1 \\\n"
      "      --teacher-count 200 --exclude examples/maritime/data/test.csv --out synth.csv\n"
      "With OpenAI: --teacher-url https://api.openai.com/v1 --teacher-model gpt-4o and OPENAI_API_KEY set.");
  synth->callback([synth_options] { run_synth(*synth_options); });
});

}  // namespace
}  // namespace slmtune::cli
