// `slmtune train CONFIG.yaml [--set key=value …] [--resume [DIR]] [--adapter DIR]`: fine-tune a model
// (LoRA, DoRA, QLoRA or every parameter) on chat or function-calling data, as docs/config.md describes.
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <optional>

#include "chat/builtin_templates.hpp"
#include "chat/template_source.hpp"
#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "data/chat_format.hpp"
#include "eval/evaluator.hpp"
#include "formats/json.hpp"
#include "model/vocab_growth.hpp"
#include "model/weights.hpp"
#include "peft/lora_config.hpp"
#include "tokenizer/pad_token.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/checkpoint.hpp"
#include "train/trainable_set.hpp"
#include "train/train_data.hpp"
#include "train/trainer.hpp"

namespace slmtune::cli {
namespace {

struct TrainOptions {
  std::string config;
  std::vector<std::string> overrides;
  std::string resume;
  bool resume_given = false;
  std::string adapter;
  int folds = 0;
};

// config.chat_template: empty = the model's own, a built-in's name, or a Jinja file.
chat::ModelTemplate choose_template(const train::TrainConfig& config) {
  const auto& names = chat::builtin_template_names();
  const std::string& value = config.chat_template;
  const bool builtin = std::find(names.begin(), names.end(), value) != names.end();
  if (!value.empty() && !builtin && !std::filesystem::is_regular_file(value)) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail("chat_template: '{}' is neither a built-in template ({}) nor a file", value, known);
  }
  return chat::resolve_chat_template(config.model, builtin ? value : "", builtin ? "" : value);
}

// What every fold (or the single run) shares: the loaded tokenizer, template and pad choice.
struct Setup {
  train::TrainConfig config;
  std::filesystem::path model_path;
  std::optional<tokenizer::Tokenizer> tok;
  std::string chat_template;
  chat::SpecialTokens special_tokens;
  tokenizer::PadTokenChoice pad;
  int64_t new_tokens_from = -1;  // ids of tokens added at run time start here (-1: none)
};

// The model grown to the tokenizer's vocabulary after run-time tokens (functional tokens, <|pad|>).
std::shared_ptr<ModelWeights> grow_for_new_tokens(const Setup& s, std::shared_ptr<ModelWeights> weights) {
  const int64_t rows = static_cast<int64_t>(s.tok->vocab_size()) - weights->config().vocab_size;
  if (s.new_tokens_from < 0 || rows <= 0) return weights;
  return std::make_shared<ModelWeights>(grow_vocabulary(*weights, rows));
}

// task_metrics: greedy generation over the function-calling validation rows, scored by the eval module.
train::TaskEvaluator task_evaluator(const Setup& s, const train::TrainConfig& config, const train::TrainingData& data,
                                    const ModelConfig& model) {
  if (!config.task_metrics) return {};
  if (data.validation_rows.empty())
    fail("task_metrics: needs function-calling validation data (a CSV, or JSONL with tool_calls, in data.validation or "
         "through data.validation_split)");
  eval::EvalOptions options;
  options.format = data::parse_prompt_format(config.prompt_format);
  eval::GeneratorOptions generation;
  generation.max_new_tokens = config.task_max_new_tokens;
  for (int64_t id : model.eos_token_ids) generation.eos_ids.push_back(static_cast<int32_t>(id));
  if (s.tok->config().eos_token)
    if (const auto id = s.tok->token_to_id(*s.tok->config().eos_token)) generation.eos_ids.push_back(*id);
  return eval::make_task_evaluator(*s.tok, chat::ChatTemplate(s.chat_template, s.special_tokens), data.validation_rows,
                                   options, generation);
}

void print_result(const train::TrainConfig& config, const train::TrainResult& result) {
  fmt::print("trained {} steps ({}) in {:.1f} s{}\n", result.steps, config.method, result.seconds,
             result.stopped_early ? ", stopped early" : "");
  fmt::print("final train loss {:.4f}\n", result.final_train_loss);
  for (const auto& [name, value] : result.final_eval) fmt::print("{} {:.4f}\n", name, value);
  const bool full = config.method == "full";
  fmt::print("wrote {}: {}, tokenizer files, chat_template.jinja, metrics.jsonl, loss.svg, train_config.yaml\n",
             result.output_dir.string(), full ? "config.json + model.safetensors" : "adapter_config.json + adapter_model.safetensors");
  if (!result.best_checkpoint.empty()) fmt::print("best checkpoint {}\n", result.best_checkpoint.string());
  fmt::print("latest checkpoint {}\n", train::latest_checkpoint(result.output_dir).string());
}

train::TrainResult train_once(const Setup& s, const train::TrainConfig& config, train::TrainingData data,
                              const std::filesystem::path& resume, std::shared_ptr<ModelWeights> weights) {
  train::TrainerOptions options;
  options.pad_id = s.pad.id;
  options.new_tokens_from = s.new_tokens_from;
  options.chat_template = s.chat_template;
  if (std::filesystem::is_directory(s.model_path)) options.tokenizer_source = s.model_path;
  const std::string data_line =
      fmt::format("data: {} training samples ({} target tokens), {} validation samples, {} truncated to {} tokens; {}",
                  data.train.size(), data.train_target_tokens, data.validation.size(), data.truncated, data.max_seq_len,
                  tokenizer::describe(s.pad));
  train::TaskEvaluator evaluator = task_evaluator(s, config, data, weights->config());
  train::Trainer trainer(config, std::move(weights), *s.tok, std::move(data.train), std::move(data.validation),
                         std::move(evaluator), options);
  log::info("{}", data_line);
  log::info("{}: {} steps", config.method, trainer.total_steps());
  return trainer.run(resume);
}

// k-fold cross-validation: one run per fold into output_dir/fold-<i>, then mean ± sample standard
// deviation of every metric, printed and written to output_dir/folds.json.
void train_folds(const Setup& s, int folds) {
  if (!s.config.data.validation.empty()) log::warn("--folds: data.validation is not used; each fold validates on its own part");
  auto parts = train::load_training_folds(s.config, *s.tok, s.chat_template,
                                          ModelWeights::load(s.model_path).config().max_position_embeddings, folds);
  std::map<std::string, std::vector<double>> values;
  Json per_fold = Json::array();
  for (int k = 0; k < folds; ++k) {
    train::TrainConfig config = s.config;
    config.output_dir = (std::filesystem::path(s.config.output_dir) / fmt::format("fold-{}", k)).string();
    log::info("fold {} of {}", k + 1, folds);
    // A fresh base per fold: full fine-tuning and QLoRA change the weights they are given.
    auto weights = grow_for_new_tokens(s, std::make_shared<ModelWeights>(ModelWeights::load(s.model_path)));
    const train::TrainResult result = train_once(s, config, std::move(parts[static_cast<size_t>(k)]), {}, weights);
    std::map<std::string, double> metrics = result.final_eval;
    metrics["train_loss"] = result.final_train_loss;
    Json entry = {{"fold", k}, {"output_dir", config.output_dir}, {"steps", result.steps}};
    std::string line = fmt::format("fold {}:", k);
    for (const auto& [name, value] : metrics) {
      values[name].push_back(value);
      entry[name] = value;
      line += fmt::format(" {} {:.4f}", name, value);
    }
    per_fold.push_back(entry);
    fmt::print("{}\n", line);
  }
  Json summary = Json::object();
  for (const auto& [name, list] : values) {
    double mean = 0, var = 0;
    for (double v : list) mean += v;
    mean /= static_cast<double>(list.size());
    for (double v : list) var += (v - mean) * (v - mean);
    const double sd = list.size() > 1 ? std::sqrt(var / static_cast<double>(list.size() - 1)) : 0.0;
    summary[name] = {{"mean", mean}, {"std", sd}, {"n", list.size()}};
    fmt::print("{} {:.4f} ± {:.4f} (mean ± std over {} folds)\n", name, mean, sd, list.size());
  }
  write_file_atomically(std::filesystem::path(s.config.output_dir) / "folds.json",
                        Json{{"folds", per_fold}, {"summary", summary}}.dump(2) + "\n");
  fmt::print("wrote {}\n", (std::filesystem::path(s.config.output_dir) / "folds.json").string());
}

void run_train(const TrainOptions& o) {
  std::vector<std::string> overrides = o.overrides;
  if (!o.adapter.empty()) overrides.push_back("adapter=" + o.adapter);
  Setup s;
  s.config = train::load_train_config(o.config, overrides);
  const train::TrainConfig& config = s.config;
  if (o.folds != 0 && o.resume_given) fail("--folds and --resume: resume one fold's run with its own output_dir instead");

  std::filesystem::path resume;
  if (o.resume_given) {
    resume = o.resume.empty() ? std::filesystem::path(config.output_dir) : std::filesystem::path(o.resume);
    if (!std::filesystem::is_regular_file(resume / "trainer_state.json") && train::latest_checkpoint(resume).empty())
      fail("--resume: {}: no checkpoint to resume from (no checkpoint-<step> folder with trainer_state.json)", resume.string());
  }

  if (!o.resume_given) {
    std::filesystem::path fresh = config.output_dir;
    if (o.folds != 0) fresh /= "fold-0";
    train::refuse_to_overwrite(fresh);
  }

  s.model_path = config.model;
  if (!std::filesystem::exists(s.model_path)) fail("model: {}: no such model folder or file", config.model);
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load(s.model_path));
  // Bad LoRA settings (r, bias, unknown target modules) are refused before anything is loaded or logged.
  if (config.method != "full" && config.adapter.empty())
    peft::resolve_targets(train::lora_config_from(config), weights->config());
  s.tok.emplace(tokenizer::Tokenizer::load(s.model_path));
  const chat::ModelTemplate chat_template = choose_template(config);
  if (!chat_template.source) fail("{}: the model has no chat template; set chat_template to a built-in name or a .jinja file", config.model);
  s.chat_template = *chat_template.source;
  s.special_tokens = chat_template.tokens;

  // Tokens added here get ids after the vocabulary; the model grows to match (new rows = the mean
  // of the old ones) and their rows are trained whatever the method.
  const auto first_new = static_cast<int64_t>(s.tok->vocab_size());
  const size_t added_before = s.tok->added_tokens().size();
  int64_t functional_added = 0;
  for (const auto& name : train::functional_tokens_needed(config))
    if (!s.tok->token_to_id(name)) {
      s.tok->add_token(name, /*special=*/true);
      ++functional_added;
    }
  const auto fallback = tokenizer::parse_pad_fallback(config.pad_token);
  const ModelConfig mc = weights->config();  // a copy: growing the vocabulary below replaces `weights`
  const WeightEntry& embedding = (*weights)[static_cast<size_t>(std::max(0, weights->index("model.embed_tokens.weight")))];
  s.pad = tokenizer::resolve_pad_token(*s.tok, fallback, static_cast<uint64_t>(mc.hidden_size),
                                       dtype_size(embedding.tensor.dtype()), mc.tie_word_embeddings);
  if (s.tok->added_tokens().size() > added_before) {
    s.new_tokens_from = first_new;
    weights = grow_for_new_tokens(s, std::move(weights));
    const int64_t n = static_cast<int64_t>(s.tok->vocab_size()) - first_new;
    if (functional_added > 0)
      log::info("functional tokens: added {} special tokens <fn_NAME> as ids {}..{}; embedding{} grown to {} rows ({} bytes more)",
                functional_added, first_new, first_new + functional_added - 1, mc.tie_word_embeddings ? "" : " and lm_head",
                weights->config().vocab_size, vocabulary_growth_bytes(*weights, n));
  }

  if (o.folds != 0) {
    weights.reset();
    train_folds(s, o.folds);
    return;
  }
  train::TrainingData data =
      train::load_training_data(config, *s.tok, s.chat_template, weights->config().max_position_embeddings);
  print_result(config, train_once(s, config, std::move(data), resume, std::move(weights)));
}

const CommandRegistration registration(30, [](CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand(
      "train",
      "Fine-tune a model as CONFIG.yaml describes (every key with its default: docs/config.md).\n"
      "Methods: lora, dora, qlora (NF4 base) or full. Data: chat JSONL or function-calling CSV/JSONL.\n"
      "The run directory (output_dir) receives the adapter (PEFT format) or the full model, the tokenizer\n"
      "files and chat template, metrics.jsonl, loss.svg, train_config.yaml and checkpoint-<step>/ folders.\n"
      "Examples:\n"
      "  slmtune train run.yaml\n"
      "  slmtune train run.yaml --set max_steps=3 --set output_dir=runs/x --set lora.r=8\n"
      "  slmtune train run.yaml --resume                 # continue from output_dir's latest checkpoint\n"
      "  slmtune train run.yaml --resume runs/x/checkpoint-40\n"
      "  slmtune train run.yaml --adapter runs/old       # continue training a PEFT adapter\n"
      "  slmtune train run.yaml --folds 5                # 5-fold cross-validation");
  cmd->add_option("CONFIG", options->config, "The training configuration (YAML)")->required();
  cmd->add_option("--set", options->overrides, "Override a key: --set key=value (dotted for sections: lora.r=8); repeatable")
      ->allow_extra_args(false);
  auto* resume = cmd->add_option("--resume", options->resume,
                                 "Continue a run: from output_dir's latest checkpoint, or from the given checkpoint folder")
                     ->expected(0, 1);
  cmd->add_option("--adapter", options->adapter, "A PEFT adapter folder to continue training (LoRA methods)");
  cmd->add_option("--folds", options->folds,
                  "k-fold cross-validation over data.train: K runs into output_dir/fold-<i>, then mean ± std of every metric");
  cmd->callback([options, resume] {
    options->resume_given = resume->count() > 0;
    run_train(*options);
  });
});

}  // namespace
}  // namespace slmtune::cli
