// `slmtune eval --model M [--adapter A] --data FILE`: greedy generation for every row of a
// function-calling dataset (the article's CSV or chat JSONL) and the scores of issue 7: exact match,
// name and argument accuracy, JSON validity, no-call accuracy, a confusion table of emergency_type,
// latency and prompt length. --constrained scores the model under constrained decoding (the calls
// held to the functions' schemas, as `assist` runs it). A table on stdout, or with --json one JSON
// object; --json-out writes that object to a file next to the table (one generation pass for both);
// --predictions writes every row's output and score as JSONL.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/dataset.hpp"
#include "eval/evaluator.hpp"
#include "eval/loaded_model.hpp"

namespace slmtune::cli {
namespace {

struct EvalCliOptions {
  eval::ModelSource source;
  std::string data;
  std::string system_file;
  std::string prompt_format;
  std::string confusion_argument = "emergency_type";
  int64_t max_new_tokens = 256;
  bool constrained = false;
  bool json = false;
  std::string json_out;     // the --json object, written to this file as well
  std::string predictions;  // a JSONL file: one record per row
};

data::Dataset load_rows(const EvalCliOptions& o) {
  data::LoadOptions load;
  std::filesystem::path system_file = o.system_file;
  if (system_file.empty()) system_file = eval::find_system_prompt(o.source);
  if (!system_file.empty()) {
    load.system_template = read_file(system_file);
    while (!load.system_template.empty() && (load.system_template.back() == '\n' || load.system_template.back() == '\r'))
      load.system_template.pop_back();
  }
  data::Dataset dataset = data::load_dataset(o.data, load);
  if (!dataset.errors.empty()) {
    if (dataset.errors.size() == 1) fail("{}", dataset.errors.front());
    fail("{} (and {} more; `slmtune data validate {}` lists them all)", dataset.errors.front(), dataset.errors.size() - 1, o.data);
  }
  if (dataset.examples.empty()) fail("{}: no rows to evaluate", o.data);
  if (!system_file.empty()) log::debug("system prompt: {}", system_file.string());
  if (load.system_template.empty()) {
    for (const auto& example : dataset.examples) {
      if (example.variables.empty()) continue;
      log::warn("{}: the rows have variables ({}, ...) but no system prompt uses them: pass --system-file F", o.data,
                example.variables.begin()->first);
      break;
    }
  }
  return dataset;
}

void run_eval(const EvalCliOptions& o) {
  if (o.max_new_tokens < 1) fail("--max-new-tokens must be at least 1, got {}", o.max_new_tokens);
  const data::Dataset dataset = load_rows(o);
  const data::PromptFormat format = eval::choose_prompt_format(o.source, o.prompt_format);
  eval::LoadedModel loaded = eval::LoadedModel::load(o.source);
  if (format == data::PromptFormat::functional_tokens)
    eval::warn_missing_functional_tokens(loaded.model.tokenizer, data::functional_token_names(dataset.examples));

  eval::GeneratorOptions generation;
  generation.max_new_tokens = o.max_new_tokens;
  generation.eos_ids = loaded.model.eos_ids;
  generation.stop_strings = eval::end_of_turn_strings(*loaded.chat_template);
  generation.constrained = o.constrained;
  eval::TransformerGenerator generator(*loaded.model.transformer, loaded.model.tokenizer, generation);
  eval::EvalOptions options;
  options.format = format;
  options.confusion_argument = o.confusion_argument;

  const auto total = static_cast<int64_t>(dataset.examples.size());
  std::string predictions;
  Progress progress("eval", total, log::level() == log::Level::quiet ? Progress::Mode::silent : Progress::Mode::automatic);
  const eval::EvalMetrics metrics = eval::evaluate(
      dataset.examples, *loaded.chat_template, generator, options,
      [&](const eval::RowResult& row, const eval::EvalMetrics& so_far) {
        const data::Example& example = dataset.examples[row.index];
        if (!progress.terminal())
          progress.line(fmt::format("eval {}/{} {}:{}: {}{} ({} prompt tokens, {:.0f} ms)", row.index + 1, total,
                                    example.source, example.line, row.score.exact_match ? "right" : "wrong",
                                    row.score.json_valid ? "" : ", malformed call", row.completion.cost.prompt_tokens,
                                    row.completion.cost.seconds * 1000.0));
        log::debug("{}:{}: {}", example.source, example.line, row.completion.text);
        if (!o.predictions.empty()) predictions += eval::row_to_json(row, example).dump() + "\n";
        progress.update(so_far.n, fmt::format("exact_match {:.3f}", so_far.exact_match.fraction()));
      });
  progress.finish();
  Json out = eval::metrics_to_json(metrics);
  out["prompt_format"] = data::prompt_format_name(format);
  out["constrained"] = o.constrained;
  out["data"] = o.data;
  out["model"] = o.source.model.string();
  out["adapter"] = o.source.adapter.empty() ? Json(nullptr) : Json(o.source.adapter.string());
  // Written once the run is complete, so an interrupted run leaves no partial file.
  if (!o.predictions.empty()) write_file_atomically(o.predictions, predictions);
  if (!o.json_out.empty()) write_file_atomically(o.json_out, out.dump() + "\n");

  if (o.json) {
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("{}", eval::metrics_table(metrics));
  }
}

const CommandRegistration registration(72, [](CLI::App& app) {
  auto o = std::make_shared<EvalCliOptions>();
  auto* cmd = app.add_subcommand(
      "eval", "Score a model's function calls on a dataset (greedy generation, BFCL-style matching).\n"
              "Example: slmtune eval --model models/maritime-lm --adapter runs/maritime --data examples/maritime/data/test.csv");
  cmd->add_option("--model", o->source.model, "A Hugging Face directory or a .gguf file")->required();
  cmd->add_option("--adapter", o->source.adapter, "A PEFT adapter directory (a training run's output) to attach");
  cmd->add_option("--data", o->data, "The dataset: the article's CSV or chat JSONL")->required();
  cmd->add_option("--system-file", o->system_file,
                  "System prompt with {{ column }} placeholders (default: the run's: system_prompt.txt or train_config.yaml's data.system_prompt)");
  cmd->add_option("--prompt-format", o->prompt_format,
                  "definitions_in_prompt or functional_tokens (default: the run's train_config.yaml, else definitions_in_prompt)");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Most tokens generated per row")->capture_default_str();
  cmd->add_flag("--constrained,!--no-constrained", o->constrained,
                "Constrained decoding, as `assist` runs: every call the model writes is valid JSON for its "
                "function's schema (default: off, to score the model alone)");
  cmd->add_option("--confusion-argument", o->confusion_argument, "The argument tallied in the confusion table")
      ->capture_default_str();
  cmd->add_option("--chat-template", o->source.chat_template, "Use a built-in template: chatml, llama-2, llama-3, phi-3, zephyr");
  cmd->add_option("--chat-template-file", o->source.chat_template_file, "Use the Jinja template in this file");
  cmd->add_flag("--json", o->json, "Print one JSON object instead of the table");
  cmd->add_option("--json-out", o->json_out,
                  "Also write that JSON object to this file (the table still goes to stdout: one run gives both)");
  cmd->add_option("--predictions", o->predictions,
                  "Also write one JSON line per row to this file: the query, expected calls, raw output, "
                  "parsed calls, exact_match, wrong arguments, cost (to see which rows fail and why)");
  cmd->callback([o] { run_eval(*o); });
});

}  // namespace
}  // namespace slmtune::cli
