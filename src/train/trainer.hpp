#pragma once
// The training loop shared by `slmtune train` (LoRA/DoRA/QLoRA/full fine-tuning on chat data) and
// `slmtune pretrain` (a random-init model, method full, train_on all over text chunks). It takes
// ready-made samples (ids + labels), so it knows nothing about chat templates or datasets.
//
// One optimizer step = gradient_accumulation_steps micro-batches of batch_size samples; each
// micro-batch's loss gradient is scaled by its share of the step's target tokens, so the update is
// that of one big batch's token-mean loss (independent of how the tokens fall into micro-batches).
// Then: clip by global norm, schedule's lr, optimizer step. Evaluation every eval_steps (and at the
// end) computes the token-mean validation loss plus the TaskEvaluator's metrics; early stopping
// watches one of them, keeps the best checkpoint and leaves the best weights as the result.
//
// Run directory (output_dir):
//   checkpoint-<step>/     adapter (PEFT format) or model.safetensors, optimizer.bin,
//                          trainer_state.json (step, epoch, data order, RNG, best metric, log history)
//                          — each written into a temporary directory and renamed whole
//   adapter_config.json + adapter_model.safetensors (LoRA/DoRA/QLoRA) or a complete HF model
//   directory (full), the tokenizer files, chat_template.jinja, metrics.jsonl, loss.svg,
//   train_config.yaml (as resolved).
//
// Determinism: the same config, samples and thread count give bit-identical weights, also across a
// SIGKILL and --resume (data order, RNG, dropout step and optimizer state are all in the checkpoint).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/transformer.hpp"
#include "model/weights.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/metrics_log.hpp"
#include "train/samples.hpp"
#include "train/train_config.hpp"

namespace slmtune::train {

// Task metrics on the validation data, higher or lower is better per the metric (e.g. the eval
// module's function-calling accuracy). Called with the model in inference mode, adapters attached
// (dropout off). Empty function = loss only. Metric names are reported as "eval_<name>".
using TaskEvaluator = std::function<std::map<std::string, double>(Transformer& model)>;

// What the caller adds beyond the config and the samples.
struct TrainerOptions {
  // Padding id in batches (positions, not ids, mask the loss); unset = the tokenizer's pad, else EOS.
  std::optional<int32_t> pad_id;
  std::string chat_template;               // written to chat_template.jinja when non-empty
  std::filesystem::path tokenizer_source;  // folder whose tokenizer files are copied (empty: none)
  // Tokens added at run time (functional tokens, a new pad) have ids ≥ this (-1: none). Their rows
  // in the grown embedding/lm_head are trained also under LoRA/DoRA/QLoRA (train/new_token_rows),
  // and they are written into the copied tokenizer files.
  int64_t new_tokens_from = -1;
  std::filesystem::path initial_adapter;   // a PEFT adapter folder to continue training (LoRA/DoRA)
  bool progress = true;                    // progress bar / log lines on stderr (core/progress)
  std::function<void(const LogEntry&)> on_log;  // called for each logged line (tests, pretrain)
};

struct TrainResult {
  int64_t steps = 0;                 // optimizer steps taken in total (including before a resume)
  int64_t epochs_started = 0;
  double final_train_loss = 0;       // token-mean loss of the last logged window
  std::map<std::string, double> final_eval;  // the metrics of the weights left as the result
  std::filesystem::path output_dir;
  std::filesystem::path best_checkpoint;     // empty without evaluation
  bool stopped_early = false;
  int64_t truncated_samples = 0;     // as reported by the caller's SampleSet (for the summary)
  double seconds = 0;
};

class Trainer {
 public:
  // weights: the base model (mutable: full fine-tuning updates it in place; QLoRA quantizes it).
  // Validation may be empty (no evaluation unless the evaluator works without samples).
  Trainer(const TrainConfig& config, std::shared_ptr<ModelWeights> weights, const tokenizer::Tokenizer& tokenizer,
          std::vector<Sample> train, std::vector<Sample> validation, TaskEvaluator evaluator = {},
          TrainerOptions options = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // resume_from: empty = fresh run; output_dir = its latest checkpoint; a checkpoint-<n> folder.
  // Throws one line on a checkpoint of another model/method/r/targets, and on a non-finite loss
  // (naming the step, the lr and the last good checkpoint, which is kept).
  TrainResult run(const std::filesystem::path& resume_from = {});

  // Total optimizer steps the run will take (max_steps or epochs × steps per epoch).
  int64_t total_steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The latest checkpoint-<n> folder of a run directory, or empty when it has none.
std::filesystem::path latest_checkpoint(const std::filesystem::path& output_dir);

}  // namespace slmtune::train
