// `slmtune pretrain`: next-token training of a freshly initialised model on a corpus of text files and
// chat datasets, through the same Trainer as `slmtune train` (method full, every token trained). The
// result is an ordinary Hugging Face directory: config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json (with the chat template). It is how the bundled model under models/ is made
// (scripts/make-bundled-model.sh).
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "cli/command.hpp"
#include "cli/format_number.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "data/chat_format.hpp"
#include "data/dataset.hpp"
#include "formats/json.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/weights.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/pretrain_data.hpp"
#include "train/samples.hpp"
#include "train/train_config.hpp"
#include "train/trainer.hpp"

namespace slmtune::cli {
namespace {

namespace fs = std::filesystem;

struct PretrainOptions {
  std::string preset;
  std::string model_config;
  std::string tokenizer;
  std::vector<std::string> corpus;
  std::vector<std::string> chat;
  std::string system_file;
  std::string prompt_format = "definitions_in_prompt";
  std::string separator = "<|endoftext|>";
  std::string out;
  std::string run_dir;
  int64_t steps = 0;
  int64_t epochs = 1;
  int64_t seq_len = 512;
  int64_t batch_size = 8;
  double learning_rate = 1e-3;
  int64_t warmup_steps = 50;
  double validation_fraction = 0.02;
  uint64_t seed = 1;
  std::string dtype = "bf16";
  std::vector<std::string> overrides;
};

// A YAML double-quoted scalar: JSON string syntax is valid YAML.
std::string yaml_quote(const std::string& text) { return Json(text).dump(); }

ModelConfig model_shape(const PretrainOptions& o) {
  if (o.preset.empty() == o.model_config.empty()) fail("pretrain: give exactly one of --preset and --config");
  if (!o.preset.empty()) return find_model_preset(o.preset).config;
  return parse_model_config(parse_json(read_file(o.model_config), o.model_config), o.model_config);
}

int32_t required_id(const tokenizer::Tokenizer& tok, const std::optional<std::string>& token, const char* what,
                    const std::string& origin) {
  if (!token) fail("{}: tokenizer_config.json: {} is not set (pretraining needs it)", origin, what);
  const auto id = tok.token_to_id(*token);
  if (!id) fail("{}: tokenizer_config.json: {} \"{}\" is not in the vocabulary", origin, what, *token);
  return *id;
}

// The documents of the corpus, tokenized: text files split at separator lines, each ending with the
// separator token; chat datasets rendered through the tokenizer's chat template exactly as fine-tuning
// renders them, each conversation one document. What was read is logged only once every file is read,
// so bad input stays a single line on stderr.
std::vector<std::vector<int32_t>> tokenized_documents(const PretrainOptions& o, const tokenizer::Tokenizer& tok,
                                                      int32_t separator_id) {
  std::vector<std::vector<int32_t>> documents;
  std::vector<std::string> read;
  for (const auto& file : o.corpus) {
    const auto texts = train::split_documents(read_file(file), o.separator);
    if (texts.empty()) fail("{}: no text between the \"{}\" separators", file, o.separator);
    for (const auto& text : texts) {
      documents.push_back(tok.encode(text, false, false));
      documents.back().push_back(separator_id);
    }
    read.push_back(fmt::format("{}: {} documents", file, texts.size()));
  }
  if (o.chat.empty()) {
    for (const auto& line : read) log::info("{}", line);
    return documents;
  }
  data::LoadOptions load;
  if (!o.system_file.empty()) load.system_template = read_file(o.system_file);
  train::SampleOptions sample_options;
  sample_options.train_on = train::TrainOn::all;
  const train::SampleBuilder builder(tok, "", sample_options);
  const data::PromptFormat format = data::parse_prompt_format(o.prompt_format);
  for (const auto& file : o.chat) {
    const data::Dataset dataset = data::load_dataset(file, load);
    if (!dataset.errors.empty())
      fail("{} ({} of {} rows invalid; `slmtune data validate` lists them all)", dataset.errors.front(),
           dataset.errors.size(), dataset.rows);
    // Pretraining cannot grow the vocabulary as fine-tuning does: a functional token must already be a
    // token of the tokenizer (reserve it with `slmtune tokenizer train --special`), or it would be
    // learnt as the characters of its spelling.
    if (format == data::PromptFormat::functional_tokens)
      for (const auto& name : data::functional_token_names(dataset.examples))
        if (!tok.token_to_id(name))
          fail("{}: --prompt-format functional_tokens: the tokenizer has no token {} (reserve it with `slmtune "
               "tokenizer train --special {}`)", file, name, name);
    for (const auto& example : dataset.examples) {
      const auto chat = data::to_chat_messages(example, format);
      train::ChatExample rendered{chat.messages, chat.tools, fmt::format("{}:{}", example.source, example.line)};
      documents.push_back(builder.build(rendered).ids);
      documents.back().push_back(separator_id);
    }
    read.push_back(fmt::format("{}: {} conversations", file, dataset.examples.size()));
  }
  for (const auto& line : read) log::info("{}", line);
  return documents;
}

train::TrainConfig trainer_config(const PretrainOptions& o, const fs::path& init_dir, const fs::path& run_dir) {
  // Every key of the training configuration is available through --set; these are pretraining's defaults.
  const std::string yaml = fmt::format(
      "model: {}\noutput_dir: {}\nmethod: full\ntrain_on: all\nlearning_rate: {}\nlr_scheduler_type: cosine\n"
      "warmup_steps: {}\nnum_train_epochs: {}\nmax_steps: {}\nbatch_size: {}\nmax_grad_norm: 1.0\n"
      "logging_steps: 10\nseed: {}\nmax_seq_len: {}\noptimizer:\n  weight_decay: 0.01\n  beta2: 0.98\n"
      "data:\n  train: {}\n",
      yaml_quote(init_dir.string()), yaml_quote(run_dir.string()), o.learning_rate, o.warmup_steps, o.epochs, o.steps,
      o.batch_size, o.seed, o.seq_len, yaml_quote(o.corpus.empty() ? o.chat.front() : o.corpus.front()));
  return train::parse_train_config(yaml, "pretrain options", o.overrides);
}

void run_pretrain(const PretrainOptions& o) {
  if (o.corpus.empty() && o.chat.empty()) fail("pretrain: nothing to train on (give --corpus and/or --chat files)");
  if (o.seq_len < 2) fail("--seq-len {}: expected at least 2", o.seq_len);
  data::parse_prompt_format(o.prompt_format);  // a misspelt format is refused before anything runs
  const fs::path out = o.out;
  const fs::path run_dir = o.run_dir.empty() ? fs::path("runs") / ("pretrain-" + out.filename().string()) : fs::path(o.run_dir);

  const fs::path tokenizer_dir = o.tokenizer;
  if (!fs::exists(tokenizer_dir / "tokenizer.json") || !fs::exists(tokenizer_dir / "tokenizer_config.json"))
    fail("{}: expected a folder with tokenizer.json and tokenizer_config.json", tokenizer_dir.string());
  const auto tok = tokenizer::Tokenizer::load(tokenizer_dir);
  const auto& tc = tok.config();
  const std::string tc_origin = (tokenizer_dir / "tokenizer_config.json").string();
  const int32_t eos_id = required_id(tok, tc.eos_token, "eos_token", tc_origin);
  const int32_t pad_id = required_id(tok, tc.pad_token, "pad_token", tc_origin);
  const auto separator_id = tok.token_to_id(o.separator);
  if (!separator_id) fail("--separator \"{}\": not a token of {}", o.separator, tokenizer_dir.string());

  ModelConfig config = model_shape(o);
  config.vocab_size = static_cast<int64_t>(tok.vocab_size());
  config.max_position_embeddings = std::max(config.max_position_embeddings, o.seq_len);
  config.bos_token_id = tc.bos_token ? tok.token_to_id(*tc.bos_token) : std::nullopt;
  config.eos_token_ids = {eos_id};
  config.pad_token_id = pad_id;

  auto documents = tokenized_documents(o, tok, *separator_id);
  auto packed = train::pack_documents(documents, o.seq_len);
  documents.clear();
  std::vector<train::Sample> train_rows = std::move(packed.rows), validation_rows;
  train::hold_out_rows(train_rows, validation_rows, o.validation_fraction, o.seed);
  log::info("corpus: {} documents, {} tokens, {} rows of <= {} tokens ({} train, {} validation); {} documents cut",
            packed.documents, with_commas(packed.tokens), train_rows.size() + validation_rows.size(), o.seq_len,
            train_rows.size(), validation_rows.size(), packed.cut_documents);

  // The random initial weights go through a model directory, as `slmtune new-model` writes it; stored
  // in the output dtype, which the full fine-tune keeps when it saves.
  const fs::path init_dir = run_dir / "init";
  RandomInitOptions init;
  init.seed = o.seed;
  init.dtype = o.dtype == "bf16" ? DType::BF16 : o.dtype == "f16" ? DType::F16 : DType::F32;
  write_random_model(config, init_dir, init);
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(init_dir));
  log::info("model: {} ({} parameters), vocabulary {}", config.architecture,
            with_commas(expected_parameter_count(config)), config.vocab_size);

  train::TrainerOptions trainer_options;
  trainer_options.pad_id = pad_id;
  trainer_options.tokenizer_source = tokenizer_dir;
  if (const auto* chat_template = tc.chat_template()) trainer_options.chat_template = *chat_template;
  train::Trainer trainer(trainer_config(o, init_dir, run_dir), weights, tok, std::move(train_rows),
                         std::move(validation_rows), {}, trainer_options);
  const train::TrainResult result = trainer.run();

  // The model directory keeps only what a user of the model needs; checkpoints and metrics stay in the run.
  fs::create_directories(out);
  for (const char* name : {"config.json", "model.safetensors"}) {
    if (!fs::exists(run_dir / name)) fail("{}: the trainer left no {}", run_dir.string(), name);
    fs::copy_file(run_dir / name, out / name, fs::copy_options::overwrite_existing);
  }
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(tokenizer_dir / name, out / name, fs::copy_options::overwrite_existing);

  std::string eval;
  for (const auto& [name, value] : result.final_eval) eval += fmt::format(", {} {:.4f}", name, value);
  fmt::print("pretrained {}: {} parameters, {} steps in {}, train loss {:.4f}{} (run: {})\n", out.string(),
             with_commas(expected_parameter_count(config)), result.steps, Progress::format_duration(result.seconds),
             result.final_train_loss, eval, run_dir.string());
}

const CommandRegistration registration(58, [](CLI::App& app) {
  auto o = std::make_shared<PretrainOptions>();
  auto* cmd = app.add_subcommand(
      "pretrain",
      "Train a freshly initialised causal LM on a corpus (next-token loss on every token) and write a Hugging "
      "Face model directory.\nExample: slmtune pretrain --config shape.json --tokenizer tok/ --corpus text.txt "
      "--chat synth.csv --system-file system_prompt.txt --out models/my-lm --epochs 2");
  cmd->add_option("--preset", o->preset, "Model shape: a preset of `slmtune new-model`");
  cmd->add_option("--config", o->model_config, "Model shape: a config.json (vocab_size and special ids come from the tokenizer)");
  cmd->add_option("--tokenizer", o->tokenizer, "Folder with tokenizer.json and tokenizer_config.json (eos, pad, chat template)")->required();
  cmd->add_option("--corpus", o->corpus, "Text files; documents are separated by lines holding only --separator");
  cmd->add_option("--chat", o->chat, "Datasets (function-calling CSV or chat JSONL) rendered with the chat template, one document per conversation");
  cmd->add_option("--system-file", o->system_file, "System-message template for --chat rows ({{ gps }} filled per row)");
  cmd->add_option("--prompt-format", o->prompt_format,
                  "How --chat rows write their calls: definitions_in_prompt (tools in the prompt) or functional_tokens "
                  "(<fn_NAME>{args}, no definitions; the tokenizer must hold the tokens)")
      ->capture_default_str();
  cmd->add_option("--separator", o->separator, "Document separator line in --corpus files (a token of the tokenizer)")->capture_default_str();
  cmd->add_option("--out", o->out, "Model directory to write")->required();
  cmd->add_option("--run-dir", o->run_dir, "Run directory for checkpoints and metrics (default runs/pretrain-<out name>)");
  cmd->add_option("--steps", o->steps, "Optimizer steps; 0 = --epochs decides")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Passes over the corpus when --steps is 0")->capture_default_str();
  cmd->add_option("--seq-len", o->seq_len, "Tokens per row")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Rows per step")->capture_default_str();
  cmd->add_option("--lr", o->learning_rate, "Peak learning rate (cosine schedule)")->capture_default_str();
  cmd->add_option("--warmup-steps", o->warmup_steps, "Linear warmup steps")->capture_default_str();
  cmd->add_option("--validation-fraction", o->validation_fraction, "Share of rows held out for the validation loss")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the initial weights, the validation rows and the data order")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "Stored dtype of the weights")->capture_default_str()->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cmd->add_option("--set", o->overrides, "Any training key (docs/config.md), e.g. --set optimizer.weight_decay=0");
  cmd->callback([o] { run_pretrain(*o); });
});

}  // namespace
}  // namespace slmtune::cli
