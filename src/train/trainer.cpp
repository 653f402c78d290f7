#include "train/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "chat/template_source.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "train/batching.hpp"
#include "train/checkpoint.hpp"
#include "train/loss_plot.hpp"
#include "train/lr_schedule.hpp"
#include "tokenizer/added_tokens_writer.hpp"
#include "train/new_token_rows.hpp"
#include "train/optimizer.hpp"
#include "train/trainable_set.hpp"

namespace slmtune::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Targets the loss counts in a batch: position t predicts labels[t + 1], so a row's first label
// never counts, nor (packing) the first label of each segment (Transformer::forward does the same).
int64_t count_targets(const Batch& batch) {
  int64_t n = 0;
  const bool segmented = !batch.segment_ids.empty();
  for (int64_t b = 0; b < batch.batch_size; ++b)
    for (int64_t t = 1; t < batch.seq_len; ++t) {
      const auto i = static_cast<size_t>(b * batch.seq_len + t);
      if (segmented && batch.segment_ids[i] != batch.segment_ids[i - 1]) continue;
      n += batch.labels[i] != kIgnoreIndex;
    }
  return n;
}

int64_t count_real_tokens(const Batch& batch) {
  if (batch.attention_mask.empty()) return batch.batch_size * batch.seq_len;
  int64_t n = 0;
  for (uint8_t m : batch.attention_mask) n += m != 0;
  return n;
}

// The files a Hugging Face tokenizer folder may hold; whichever exist are copied into the run.
const char* const kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                       "vocab.json",     "merges.txt",            "tokenizer.model",
                                       "added_tokens.json"};

int32_t default_pad_id(const tokenizer::Tokenizer& tok) {
  const auto& config = tok.config();
  for (const auto* name : {&config.pad_token, &config.eos_token, &config.unk_token})
    if (name->has_value())
      if (const auto id = tok.token_to_id(**name)) return *id;
  return 0;
}

}  // namespace

struct Trainer::Impl {
  TrainConfig config;
  std::shared_ptr<ModelWeights> weights;
  const tokenizer::Tokenizer& tokenizer;
  std::vector<Sample> train;
  std::vector<Sample> validation;
  TaskEvaluator evaluator;
  TrainerOptions options;
  std::filesystem::path output_dir;

  std::unique_ptr<Transformer> model;
  std::unique_ptr<TrainableSet> trainable;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<DataOrder> order;
  std::unique_ptr<LrSchedule> schedule;
  TrainerState state;
  int64_t total = 0;
  int32_t pad_id = 0;
  int64_t pack_len = 0;
  int64_t last_saved_step = -1;
  std::filesystem::path last_checkpoint;

  Impl(const TrainConfig& c, std::shared_ptr<ModelWeights> w, const tokenizer::Tokenizer& tok, std::vector<Sample> tr,
       std::vector<Sample> va, TaskEvaluator ev, TrainerOptions opt)
      : config(c), weights(std::move(w)), tokenizer(tok), train(std::move(tr)), validation(std::move(va)),
        evaluator(std::move(ev)), options(std::move(opt)), output_dir(c.output_dir) {
    if (!weights) fail("trainer: no model weights");
    if (train.empty()) fail("{}: the training data has no samples", config.data.train.empty() ? "trainer" : config.data.train);
    if (config.threads > 0) set_threads(static_cast<int>(config.threads));  // 0: keep the program's --threads
    pad_id = options.pad_id ? *options.pad_id : default_pad_id(tokenizer);
    if (options.initial_adapter.empty()) options.initial_adapter = config.adapter;
    trainable = make_trainable_set(config, weights, options.initial_adapter);
    // Full fine-tuning trains the new rows with everything else.
    if (options.new_tokens_from >= 0 && options.new_tokens_from < weights->config().vocab_size && config.method != "full")
      trainable = train_new_token_rows(std::move(trainable), weights, options.new_tokens_from);
    model = std::make_unique<Transformer>(weights);
    trainable->attach(*model);

    OptimizerSettings settings;
    settings.kind = parse_optimizer_kind(config.optimizer.name);
    settings.beta1 = static_cast<float>(config.optimizer.beta1);
    settings.beta2 = static_cast<float>(config.optimizer.beta2);
    settings.eps = static_cast<float>(config.optimizer.eps);
    settings.weight_decay = static_cast<float>(config.optimizer.weight_decay);
    settings.momentum = static_cast<float>(config.optimizer.momentum);
    if (config.optimizer.paged) {
      std::filesystem::create_directories(output_dir);
      settings.paged_file = output_dir / "optimizer_state.paged";
    }
    optimizer = std::make_unique<Optimizer>(settings, trainable->parameters(*model));

    order = std::make_unique<DataOrder>(train.size(), config.seed);
    // Packed rows hold at most the sample length limit the data was cut to.
    const int64_t context = weights->config().max_position_embeddings;
    pack_len = config.max_seq_len > 0 && (context <= 0 || config.max_seq_len < context) ? config.max_seq_len : context;
    if (config.packing)
      for (const Sample& s : train)
        if (static_cast<int64_t>(s.ids.size()) > pack_len)
          fail("packing: a training sample has {} tokens, more than max_seq_len {}", s.ids.size(), pack_len);
    const int64_t per_step = config.batch_size * config.gradient_accumulation_steps;
    const auto n = static_cast<int64_t>(train.size());
    total = config.max_steps > 0 ? config.max_steps : std::max<int64_t>(1, (config.num_train_epochs * n + per_step - 1) / per_step);
    const int64_t warmup = warmup_steps_for(total, config.warmup_steps, config.warmup_ratio);
    schedule = std::make_unique<LrSchedule>(parse_schedule_kind(config.lr_scheduler_type), config.learning_rate, warmup, total);
    state.identity = identity();
  }

  // What a resumed run must share with the checkpoint it continues.
  Json identity() const {
    const ModelConfig& mc = weights->config();
    Json id = trainable->identity();
    id["architecture"] = mc.architecture;
    id["vocab_size"] = mc.vocab_size;
    id["hidden_size"] = mc.hidden_size;
    id["num_layers"] = mc.num_layers;
    id["model_fingerprint"] = trainable->base_fingerprint();
    id["optimizer"] = config.optimizer.name;
    id["train_samples"] = train.size();
    return id;
  }

  double epoch() const { return static_cast<double>(state.samples_seen) / static_cast<double>(train.size()); }

  void resume(const std::filesystem::path& from) {
    std::filesystem::path dir = from;
    if (!std::filesystem::is_regular_file(from / "trainer_state.json")) {
      dir = latest_checkpoint(from);
      if (dir.empty()) fail("{}: no checkpoint to resume from (no checkpoint-<step> folder with trainer_state.json)", from.string());
    }
    TrainerState saved = read_trainer_state(dir);
    check_run_identity(saved.identity, state.identity, (dir / "trainer_state.json").string());
    if (saved.step > total)
      fail("{}: the checkpoint is at step {} but this run has only {} steps", dir.string(), saved.step, total);
    trainable->load(dir, *model);
    optimizer->load(dir / "optimizer.bin");
    order->restore(saved.data_order);
    state = std::move(saved);
    last_saved_step = state.step;
    last_checkpoint = dir;
    // The metrics of steps after the checkpoint belong to the killed run; the history is the truth.
    write_metrics_jsonl(output_dir / "metrics.jsonl", state.log_history);
    log::info("resuming from {} (step {} of {})", dir.string(), state.step, total);
  }

  std::filesystem::path save_checkpoint() {
    state.data_order = order->state();
    const auto dir = write_checkpoint(output_dir, state.step, [&](const std::filesystem::path& tmp) {
      trainable->save(tmp, *model);
      optimizer->save(tmp / "optimizer.bin");
      write_file_atomically(tmp / "trainer_state.json", trainer_state_to_json(state).dump(1) + "\n");
    });
    last_saved_step = state.step;
    last_checkpoint = dir;
    return dir;
  }

  std::map<std::string, double> evaluate() {
    std::map<std::string, double> metrics;
    trainable->set_training(false);
    if (!validation.empty()) {
      double sum = 0;
      int64_t tokens = 0;
      const auto batch = static_cast<size_t>(config.batch_size);
      for (size_t begin = 0; begin < validation.size(); begin += batch) {
        std::vector<const Sample*> rows;
        for (size_t i = begin; i < std::min(validation.size(), begin + batch); ++i) rows.push_back(&validation[i]);
        ForwardOptions fo;
        fo.logits = LogitsMode::None;
        const ForwardResult r = model->forward(make_padded_batch(rows, pad_id), fo);
        sum += r.loss * static_cast<double>(r.loss_tokens);
        tokens += r.loss_tokens;
      }
      metrics["eval_loss"] = tokens > 0 ? sum / static_cast<double>(tokens) : NAN;
    }
    if (evaluator)
      for (const auto& [name, value] : evaluator(*model)) metrics[name.rfind("eval_", 0) == 0 ? name : "eval_" + name] = value;
    trainable->set_training(true);
    return metrics;
  }

  // Early stopping's bookkeeping after an evaluation: whether the metric improved (the caller then
  // writes the best checkpoint) and whether the run should stop.
  struct Verdict {
    bool improved = false, stop = false;
  };
  Verdict watch(const std::map<std::string, double>& metrics) {
    const auto& es = config.early_stopping;
    const std::string name = es.metric.rfind("eval_", 0) == 0 ? es.metric : "eval_" + es.metric;
    const auto it = metrics.find(name);
    if (it == metrics.end()) {
      std::string have;
      for (const auto& [k, v] : metrics) have += (have.empty() ? "" : ", ") + k;
      fail("early_stopping.metric: '{}' is not among the evaluation metrics ({})", es.metric, have.empty() ? "none" : have);
    }
    const double value = it->second;
    const bool improved = std::isfinite(value) &&
                          (!state.best_metric || (es.greater_is_better ? value - *state.best_metric > es.min_delta
                                                                       : *state.best_metric - value > es.min_delta));
    if (improved) {
      state.best_metric = value;
      state.best_step = state.step;
      state.evals_without_improvement = 0;
      state.best_checkpoint = checkpoint_name(state.step);
      return {true, false};
    }
    ++state.evals_without_improvement;
    return {false, state.evals_without_improvement >= es.patience};
  }

  std::string describe(const LogEntry& e) const {
    std::string text = fmt::format("step {}/{} | epoch {:.2f}", e.step, total, e.epoch);
    if (e.has_train)
      text += fmt::format(" | loss {:.4f} | lr {:.3e} | grad_norm {:.3f} | {:.0f} tok/s", e.loss, e.lr, e.grad_norm, e.tokens_per_s);
    for (const auto& [k, v] : e.eval) text += fmt::format(" | {} {:.4f}", k, v);
    return text;
  }

  void append_metrics(const LogEntry& entry) {
    std::filesystem::create_directories(output_dir);
    std::FILE* f = std::fopen((output_dir / "metrics.jsonl").c_str(), "ab");
    if (!f) fail("{}: cannot append to metrics.jsonl", output_dir.string());
    const std::string line = log_entry_to_json(entry).dump() + "\n";
    const bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
    if (std::fclose(f) != 0 || !ok) fail("{}: cannot write metrics.jsonl", output_dir.string());
  }

  [[noreturn]] void non_finite(const char* what, double value, double lr) {
    const std::string kept = last_checkpoint.empty() ? std::string("no checkpoint was written yet")
                                                     : fmt::format("the last good checkpoint {} is kept", last_checkpoint.string());
    fail("step {}: the {} is {} at learning rate {:g}; training stopped ({}); lower learning_rate or set max_grad_norm",
         state.step + 1, what, value, lr, kept);
  }

  void write_outputs() {
    trainable->save_result(output_dir, *model);
    if (!options.tokenizer_source.empty())
      for (const char* name : kTokenizerFiles) {
        const auto from = options.tokenizer_source / name;
        if (std::filesystem::is_regular_file(from))
          std::filesystem::copy_file(from, output_dir / name, std::filesystem::copy_options::overwrite_existing);
      }
    if (!options.tokenizer_source.empty() && options.new_tokens_from >= 0) {
      std::vector<tokenizer::AddedToken> added;
      for (const auto& token : tokenizer.added_tokens())
        if (token.id >= options.new_tokens_from) added.push_back(token);
      std::optional<std::string> pad;
      if (const auto& p = tokenizer.config().pad_token)
        if (const auto id = tokenizer.token_to_id(*p); id && *id >= options.new_tokens_from) pad = *p;
      tokenizer::write_added_tokens(output_dir, added, pad);
    }
    if (!options.chat_template.empty()) {
      write_file_atomically(output_dir / "chat_template.jinja", options.chat_template);
      // The tokenizer_config.json of the result carries the template the model was trained with.
      chat::save_chat_template(output_dir / "tokenizer_config.json", options.chat_template);
    }
    if (!config.resolved_yaml.empty()) write_file_atomically(output_dir / "train_config.yaml", config.resolved_yaml);
    write_metrics_jsonl(output_dir / "metrics.jsonl", state.log_history);
    write_loss_plot(output_dir / "loss.svg", state.log_history);
  }

  TrainResult run(const std::filesystem::path& resume_from) {
    std::filesystem::create_directories(output_dir);
    remove_partial_checkpoints(output_dir);
    if (!resume_from.empty()) {
      resume(resume_from);
    } else {
      refuse_to_overwrite(output_dir);
      write_metrics_jsonl(output_dir / "metrics.jsonl", {});
    }

    const bool evaluating = !validation.empty() || static_cast<bool>(evaluator);
    const bool early_stopping = config.early_stopping.patience > 0;
    if (early_stopping && !evaluating) fail("early_stopping.patience: needs validation data to watch a metric");
    // -q (log level quiet/warn) silences the bar and the log lines too.
    const bool show = options.progress && log::level() >= log::Level::info;
    Progress progress("train", total, show ? Progress::Mode::automatic : Progress::Mode::silent);
    const auto batch_size = static_cast<size_t>(config.batch_size);
    const int64_t accumulation = config.gradient_accumulation_steps;
    const auto grads = trainable->gradients(*model);
    const auto run_start = Clock::now();
    const double seconds_before = state.train_seconds;
    double window_loss = 0, window_seconds = 0;
    int64_t window_targets = 0, window_tokens = 0;
    bool stopped_early = false;
    double last_loss = NAN;

    trainable->set_training(true);
    while (state.step < total && !stopped_early) {
      const auto step_start = Clock::now();
      std::vector<Batch> batches;
      int64_t step_targets = 0;
      for (int64_t k = 0; k < accumulation; ++k) {
        const auto indices = order->next(batch_size);
        std::vector<const Sample*> rows;
        for (size_t i : indices) rows.push_back(&train[i]);
        batches.push_back(config.packing ? make_packed_batch(rows, pack_len, pad_id) : make_padded_batch(rows, pad_id));
        step_targets += count_targets(batches.back());
      }
      state.samples_seen += static_cast<int64_t>(batch_size) * accumulation;
      trainable->zero_gradients(*model);
      double step_loss_sum = 0;
      int64_t step_tokens = 0;
      for (const Batch& batch : batches) {
        // Each micro-batch's mean loss weighs by its share of the step's targets: the gradient is that
        // of the whole step's token-mean loss, as one big batch would give.
        const int64_t targets = count_targets(batch);
        trainable->set_step(static_cast<uint64_t>(state.micro_step));
        ForwardOptions fo;
        fo.logits = LogitsMode::None;
        fo.activations = config.recompute ? Activations::Recompute : Activations::Keep;
        fo.grad_scale = step_targets > 0 ? static_cast<float>(static_cast<double>(targets) / static_cast<double>(step_targets)) : 0.0f;
        const ForwardResult r = model->forward(batch, fo);
        if (r.loss_tokens != targets)
          fail("internal: the loss counted {} targets where the batch has {}", r.loss_tokens, targets);
        step_loss_sum += r.loss * static_cast<double>(r.loss_tokens);
        if (targets > 0) model->backward();
        ++state.micro_step;
        step_tokens += count_real_tokens(batch);
      }
      window_tokens += step_tokens;
      const double lr = schedule->lr(state.step);
      const double step_loss = step_targets > 0 ? step_loss_sum / static_cast<double>(step_targets) : 0.0;
      if (!std::isfinite(step_loss)) non_finite("loss", step_loss, lr);
      const double grad_norm = clip_grad_norm(grads, config.max_grad_norm);
      if (!std::isfinite(grad_norm)) non_finite("gradient norm", grad_norm, lr);
      optimizer->step(static_cast<float>(lr));
      ++state.step;
      last_loss = step_loss;
      window_loss += step_loss_sum;
      window_targets += step_targets;
      const double step_seconds = seconds_since(step_start);
      window_seconds += step_seconds;
      state.train_seconds = seconds_before + seconds_since(run_start);

      LogEntry entry;
      entry.step = state.step;
      entry.epoch = epoch();
      const bool last = state.step == total;
      if ((config.logging_steps > 0 && state.step % config.logging_steps == 0) || last) {
        entry.has_train = true;
        entry.loss = window_targets > 0 ? window_loss / static_cast<double>(window_targets) : 0.0;
        entry.lr = lr;
        entry.grad_norm = grad_norm;
        entry.tokens_per_s = window_seconds > 0 ? static_cast<double>(window_tokens) / window_seconds : 0.0;
        window_loss = 0, window_seconds = 0, window_targets = 0, window_tokens = 0;
      }
      bool improved = false;
      if (evaluating && ((config.eval_steps > 0 && state.step % config.eval_steps == 0) || last)) {
        entry.eval = evaluate();
        if (early_stopping) {
          const Verdict verdict = watch(entry.eval);
          improved = verdict.improved;
          stopped_early = verdict.stop;
        }
      }
      // The bar shows this step's own numbers; the log lines average over the logging window.
      progress.update(state.step, fmt::format("loss {:.4f} | lr {:.2e} | {:.0f} tok/s", step_loss, lr,
                                              static_cast<double>(step_tokens) / std::max(step_seconds, 1e-9)));
      if (entry.has_train || !entry.eval.empty()) {
        state.log_history.push_back(entry);
        append_metrics(entry);
        progress.line(describe(entry));
        if (options.on_log) options.on_log(entry);
      }
      // After the log line, so a checkpoint's history includes its own step. An improved metric is
      // saved too: the best weights must outlive later, worse steps.
      const bool scheduled = config.save_steps > 0 && state.step % config.save_steps == 0;
      if ((scheduled || improved) && last_saved_step != state.step) save_checkpoint();
    }
    progress.finish();
    if (stopped_early)
      log::info("early stopping at step {}: {} did not improve for {} evaluations (best {:.4f} at step {})", state.step,
                config.early_stopping.metric, state.evals_without_improvement, *state.best_metric, state.best_step);
    if (last_saved_step != state.step) save_checkpoint();

    TrainResult result;
    result.steps = state.step;
    result.epochs_started = order->epoch() + 1;
    result.output_dir = output_dir;
    result.stopped_early = stopped_early;
    result.seconds = state.train_seconds;
    for (auto it = state.log_history.rbegin(); it != state.log_history.rend(); ++it)
      if (it->has_train) {
        result.final_train_loss = it->loss;
        break;
      }
    if (state.log_history.empty() || !std::isfinite(result.final_train_loss)) result.final_train_loss = last_loss;
    for (auto it = state.log_history.rbegin(); it != state.log_history.rend(); ++it)
      if (!it->eval.empty()) {
        result.final_eval = it->eval;
        break;
      }
    if (early_stopping && !state.best_checkpoint.empty()) {
      result.best_checkpoint = output_dir / state.best_checkpoint;
      if (state.best_step != state.step) {
        // The result is the best weights, not the last ones.
        trainable->load(result.best_checkpoint, *model);
        for (const auto& e : state.log_history)
          if (e.step == state.best_step && !e.eval.empty()) result.final_eval = e.eval;
        log::info("the result holds the best weights, from {}", result.best_checkpoint.string());
      }
    }
    write_outputs();
    return result;
  }
};

Trainer::Trainer(const TrainConfig& config, std::shared_ptr<ModelWeights> weights, const tokenizer::Tokenizer& tokenizer,
                 std::vector<Sample> train, std::vector<Sample> validation, TaskEvaluator evaluator, TrainerOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(weights), tokenizer, std::move(train), std::move(validation),
                                   std::move(evaluator), std::move(options))) {}

Trainer::~Trainer() = default;

TrainResult Trainer::run(const std::filesystem::path& resume_from) { return impl_->run(resume_from); }

int64_t Trainer::total_steps() const { return impl_->total; }

}  // namespace slmtune::train
