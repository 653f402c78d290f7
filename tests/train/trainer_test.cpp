// The trainer on a tiny random Llama (2 layers, 64 wide, vocabulary 512) and a synthetic task: each
// sample is [query, SEP, answer, EOS] with the answer a fixed function of the query and only the
// answer and EOS labelled. A model that has learnt the task predicts both with near certainty, so the
// token-mean loss must fall from about ln(512) ≈ 6.2 (an untrained model) to well under 0.5.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "model/presets.hpp"
#include "peft/adapter_io.hpp"
#include "model/random_init.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"
#include "train/checkpoint.hpp"
#include "train/metrics_log.hpp"
#include "train/trainer.hpp"

using namespace slmtune;
using namespace slmtune::train;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;

namespace {

constexpr int32_t kSep = 5, kEos = 2, kPad = 3;

const tokenizer::Tokenizer& any_tokenizer() {
  // The trainer only needs it for defaults; samples and the pad id are given explicitly here.
  static const tokenizer::Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  return tok;
}

std::shared_ptr<ModelWeights> tiny_model(const TempDir& dir) {
  const auto path = dir / "base";
  if (!std::filesystem::exists(path / "model.safetensors")) {
    RandomInitOptions options;
    options.seed = 11;
    // Wider than the usual 0.02: with the frozen output layer at 0.02 no adapter could push one
    // logit far enough above 511 others for a loss under 0.5.
    options.init_std = 0.2f;
    write_random_model(find_model_preset("tiny-llama").config, path, options);
  }
  return std::make_shared<ModelWeights>(ModelWeights::load_hf(path));
}

// `extra_prompt` pads every other prompt so samples differ in length; with `label_extra` those tokens
// are labelled too (as train_on: all would), so samples also differ in their number of targets.
std::vector<Sample> mapping_task(int count, int extra_prompt = 0, bool label_extra = false) {
  std::vector<Sample> out;
  for (int q = 0; q < count; ++q) {
    Sample s;
    for (int i = 0; i < (q % 2) * extra_prompt; ++i) s.ids.push_back(40 + i);
    const int32_t query = 10 + q, answer = 100 + (q * 7) % 50;
    for (int32_t id : {query, kSep, answer, kEos}) s.ids.push_back(id);
    s.labels.assign(s.ids.size(), kIgnoreIndex);
    if (label_extra)
      for (int i = 0; i < (q % 2) * extra_prompt; ++i) s.labels[static_cast<size_t>(i)] = s.ids[static_cast<size_t>(i)];
    s.labels[s.ids.size() - 2] = answer;
    s.labels[s.ids.size() - 1] = kEos;
    out.push_back(std::move(s));
  }
  return out;
}

TrainConfig config_for(const TempDir& dir, const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"output_dir=" + (dir / "run").string()};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return parse_train_config("model: unused\ndata: {train: unused}\nthreads: 1\nseed: 3\nlogging_steps: 1\n" + yaml, "test.yaml", all);
}

TrainerOptions quiet() {
  TrainerOptions o;
  o.pad_id = kPad;
  o.progress = false;
  return o;
}

TrainResult run_training(const TempDir& dir, const TrainConfig& config, std::vector<Sample> samples, std::vector<Sample> validation = {},
                  TaskEvaluator evaluator = {}, const std::filesystem::path& resume = {}) {
  Trainer trainer(config, tiny_model(dir), any_tokenizer(), std::move(samples), std::move(validation), std::move(evaluator), quiet());
  return trainer.run(resume);
}

std::map<std::string, std::vector<float>> adapter_tensors(const std::filesystem::path& dir) {
  const auto file = safetensors::File::open(dir / "adapter_model.safetensors");
  std::map<std::string, std::vector<float>> out;
  for (const auto& t : file.tensors()) out[t.name] = file.tensor(t.name).to_f32_vector();
  return out;
}

const char* const kLoraYaml = "method: lora\nlora: {r: 8, lora_alpha: 16, lora_dropout: 0.0, target_modules: all-linear}\n"
                              "learning_rate: 0.01\nlr_scheduler_type: constant\nbatch_size: 4\n";

}  // namespace

TEST(Trainer, LoraLearnsTheMappingTask) {
  TempDir dir;
  const TrainConfig config = config_for(dir, kLoraYaml, {"max_steps=60"});
  const TrainResult result = run_training(dir, config, mapping_task(16));
  EXPECT_EQ(result.steps, 60);
  EXPECT_LT(result.final_train_loss, 0.5);
  const auto history = read_metrics_jsonl(dir / "run" / "metrics.jsonl");
  ASSERT_EQ(history.size(), 60u);
  EXPECT_GT(history.front().loss, 5.0);  // an untrained model is near ln(512)
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "adapter_config.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "checkpoint-60" / "trainer_state.json"));
}

TEST(Trainer, DoraLearnsTheMappingTask) {
  TempDir dir;
  const TrainConfig config = config_for(dir, kLoraYaml, {"max_steps=60", "method=dora"});
  const TrainResult result = run_training(dir, config, mapping_task(16));
  EXPECT_LT(result.final_train_loss, 0.5);
  // DoRA's magnitude vectors are written under PEFT's name.
  bool has_magnitude = false;
  for (const auto& [name, values] : adapter_tensors(dir / "run")) has_magnitude |= name.find("lora_magnitude_vector") != std::string::npos;
  EXPECT_TRUE(has_magnitude);
}

TEST(Trainer, RsLoraLearnsTheMappingTaskAndSaysSoInItsConfig) {
  TempDir dir;
  const TrainResult result = run_training(dir, config_for(dir, kLoraYaml, {"max_steps=60", "lora.use_rslora=true"}), mapping_task(16));
  EXPECT_LT(result.final_train_loss, 0.5);
  const Json adapter = read_json_file(dir / "run" / "adapter_config.json");
  EXPECT_EQ(adapter.at("use_rslora"), true);
  EXPECT_EQ(adapter.at("r"), 8);
  EXPECT_EQ(adapter.at("peft_type"), "LORA");
}

TEST(Trainer, FullFineTuningLearnsTheMappingTask) {
  TempDir dir;
  const TrainResult result = run_training(dir, config_for(dir, kLoraYaml, {"max_steps=40", "method=full", "learning_rate=0.003"}),
                                          mapping_task(16));
  EXPECT_LT(result.final_train_loss, 0.5);
  // The result is a Hugging Face model folder of the same tensors.
  const auto trained = ModelWeights::load_hf(dir / "run");
  EXPECT_EQ(trained.size(), tiny_model(dir)->size());
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "adapter_model.safetensors"));
}

TEST(Trainer, QloraLearnsTheMappingTask) {
  TempDir dir;
  const TrainResult result = run_training(dir, config_for(dir, kLoraYaml, {"max_steps=60", "method=qlora"}), mapping_task(16));
  EXPECT_LT(result.final_train_loss, 0.5);
}

// Hugging Face (transformers >= 4.46) divides the summed token losses of all micro-batches of a step
// by the step's total target count (num_items_in_batch); so does the trainer. Then one batch of 2 and
// two micro-batches of 1 with accumulation 2 give the same update, even when the two samples have
// different numbers of tokens. SGD without momentum makes the update proportional to the gradient.
TEST(Trainer, GradientAccumulationMatchesOneBigBatch) {
  for (int extra : {0, 3}) {
    TempDir a, b;
    const std::string yaml = std::string(kLoraYaml) + "optimizer: {name: sgd, momentum: 0.0}\nmax_grad_norm: 0\nmax_steps: 3\n";
    const auto samples = mapping_task(6, extra, /*label_extra=*/true);  // 2 or 2 + 3 targets
    run_training(a, config_for(a, yaml, {"batch_size=2", "gradient_accumulation_steps=1"}), samples);
    run_training(b, config_for(b, yaml, {"batch_size=1", "gradient_accumulation_steps=2"}), samples);
    const auto one = adapter_tensors(a / "run"), two = adapter_tensors(b / "run");
    ASSERT_EQ(one.size(), two.size());
    double largest_change = 0;
    for (const auto& [name, values] : one) {
      const auto& other = two.at(name);
      ASSERT_EQ(values.size(), other.size());
      for (size_t i = 0; i < values.size(); ++i) {
        ASSERT_NEAR(values[i], other[i], 1e-6 + 1e-4 * std::abs(values[i])) << name << "[" << i << "] extra " << extra;
        if (name.find("lora_B") != std::string::npos) largest_change = std::max<double>(largest_change, std::abs(values[i]));
      }
    }
    EXPECT_GT(largest_change, 1e-4);  // B starts at zero: the steps did move it
  }
}

TEST(Trainer, ResumingFromACheckpointEndsBitIdentical) {
  for (const std::string method : {"lora", "full"}) {
    TempDir dir, resumed;
    const std::string yaml = std::string(kLoraYaml) + "save_steps: 4\nmax_steps: 10\n";
    // Dropout masks must follow the resume too.
    const std::vector<std::string> overrides = {"lora.lora_dropout=0.1", "method=" + method, "learning_rate=0.001"};
    run_training(dir, config_for(dir, yaml, overrides), mapping_task(7));  // 7 samples, batch 4: steps cross epochs
    // A run directory that holds only checkpoint-4, as a run killed after step 5 would.
    std::filesystem::create_directories(resumed / "run");
    std::filesystem::copy(dir / "run" / "checkpoint-4", resumed / "run" / "checkpoint-4");
    std::filesystem::copy(dir / "base", resumed / "base");
    const TrainResult result = run_training(resumed, config_for(resumed, yaml, overrides), mapping_task(7), {}, {}, resumed / "run");
    EXPECT_EQ(result.steps, 10);
    const std::string weights = method == "full" ? "model.safetensors" : "adapter_model.safetensors";
    EXPECT_EQ(read_file(dir / "run" / weights), read_file(resumed / "run" / weights)) << method;
    EXPECT_EQ(read_file(dir / "run" / "checkpoint-8" / "optimizer.bin"), read_file(resumed / "run" / "checkpoint-8" / "optimizer.bin"));
    // The metrics file holds each step once: 4 from the checkpoint's history, 6 from the resumed part.
    const auto history = read_metrics_jsonl(resumed / "run" / "metrics.jsonl");
    ASSERT_EQ(history.size(), 10u);
    for (size_t i = 0; i < history.size(); ++i) EXPECT_EQ(history[i].step, static_cast<int64_t>(i + 1));
  }
}

TEST(Trainer, ResumeRefusesACheckpointOfAnotherRun) {
  TempDir dir;
  const std::string yaml = std::string(kLoraYaml) + "save_steps: 2\nmax_steps: 2\n";
  run_training(dir, config_for(dir, yaml), mapping_task(4));
  try {
    run_training(dir, config_for(dir, yaml, {"lora.r=4", "max_steps=4"}), mapping_task(4), {}, {}, dir / "run");
    FAIL() << "resumed a checkpoint of rank 8 with rank 4";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("r is 8 there but 4 here"), std::string::npos) << e.what();
  }
  try {
    run_training(dir, config_for(dir, yaml, {"max_steps=4"}), mapping_task(5), {}, {}, dir / "run");
    FAIL() << "resumed onto a dataset of another size";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train_samples is 4 there but 5 here"), std::string::npos) << e.what();
  }
  // Another base model of the same shape (other random weights) is told apart by its fingerprint.
  RandomInitOptions other;
  other.seed = 12;
  other.init_std = 0.2f;
  std::filesystem::remove_all(dir / "base");
  write_random_model(find_model_preset("tiny-llama").config, dir / "base", other);
  try {
    run_training(dir, config_for(dir, yaml, {"max_steps=4"}), mapping_task(4), {}, {}, dir / "run");
    FAIL() << "resumed onto another base model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model_fingerprint"), std::string::npos) << e.what();
  }
  TempDir empty;
  EXPECT_THROW(run_training(empty, config_for(empty, yaml), mapping_task(4), {}, {}, empty / "nothing"), Error);
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastCheckpoint) {
  TempDir dir;
  const TrainConfig config = config_for(dir, kLoraYaml, {"learning_rate=1e30", "save_steps=1", "max_steps=20", "max_grad_norm=0"});
  std::string message;
  try {
    run_training(dir, config, mapping_task(8));
  } catch (const Error& e) {
    message = e.what();
  }
  ASSERT_FALSE(message.empty()) << "a learning rate of 1e30 trained 20 steps without a non-finite loss";
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(message.find("learning rate 1e+30"), std::string::npos) << message;
  const auto latest = latest_checkpoint(dir / "run");
  ASSERT_FALSE(latest.empty());
  EXPECT_NE(message.find(latest.string()), std::string::npos) << message;
  const int64_t failed_step = std::stoll(message.substr(message.find("step ") + 5));
  EXPECT_EQ(read_trainer_state(latest).step, failed_step - 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "adapter_model.safetensors"));  // no result from a failed run
}

TEST(Trainer, EarlyStoppingKeepsTheBestWeights) {
  TempDir dir;
  // A task metric that only gets worse: the first evaluation stays the best, and after `patience`
  // evaluations without improvement the run stops, leaving that first evaluation's weights.
  int calls = 0;
  TaskEvaluator evaluator = [&](Transformer&) { return std::map<std::string, double>{{"accuracy", 1.0 / ++calls}}; };
  const TrainConfig config = config_for(
      dir, kLoraYaml,
      {"max_steps=50", "eval_steps=2", "early_stopping.patience=2", "early_stopping.metric=accuracy",
       "early_stopping.greater_is_better=true", "data.validation=unused"});
  const TrainResult result = run_training(dir, config, mapping_task(8), mapping_task(4), evaluator);
  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.steps, 6);  // evaluations at 2 (best), 4, 6
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(result.best_checkpoint, dir / "run" / "checkpoint-2");
  EXPECT_DOUBLE_EQ(result.final_eval.at("eval_accuracy"), 1.0);
  EXPECT_TRUE(result.final_eval.count("eval_loss"));
  EXPECT_EQ(read_file(dir / "run" / "adapter_model.safetensors"),
            read_file(dir / "run" / "checkpoint-2" / "adapter_model.safetensors"));
  EXPECT_NE(read_file(dir / "run" / "adapter_model.safetensors"),
            read_file(dir / "run" / "checkpoint-6" / "adapter_model.safetensors"));
  // The best checkpoint's history ends with its own evaluation.
  const TrainerState best = read_trainer_state(dir / "run" / "checkpoint-2");
  ASSERT_FALSE(best.log_history.empty());
  EXPECT_EQ(best.log_history.back().step, 2);
  EXPECT_EQ(best.log_history.back().eval.at("eval_accuracy"), 1.0);
}

// The reference: each validation sample run alone through the model with the final adapter, its
// mean loss weighted by its target count. Batching, padding and averaging must not change the number.
TEST(Trainer, EvaluationLossIsTheTokenMeanOverValidation) {
  TempDir dir;
  const TrainConfig config = config_for(dir, kLoraYaml, {"max_steps=2", "eval_steps=1", "data.validation=unused"});
  std::vector<double> eval_losses;
  TrainerOptions options = quiet();
  options.on_log = [&](const LogEntry& e) {
    if (e.eval.count("eval_loss")) eval_losses.push_back(e.eval.at("eval_loss"));
  };
  const auto validation = mapping_task(5, 2);
  Trainer trainer(config, tiny_model(dir), any_tokenizer(), mapping_task(8), validation, {}, options);
  trainer.run();
  ASSERT_EQ(eval_losses.size(), 2u);

  std::shared_ptr<const ModelWeights> base = tiny_model(dir);
  const auto adapter = peft::load_adapter(dir / "run", base);
  adapter->set_training(false);
  Transformer model(base);
  adapter->attach(model);
  double sum = 0;
  int64_t tokens = 0;
  for (const Sample& s : validation) {
    Batch batch;
    batch.seq_len = static_cast<int64_t>(s.ids.size());
    batch.input_ids = s.ids;
    batch.labels = s.labels;
    ForwardOptions fo;
    fo.logits = LogitsMode::None;
    const ForwardResult r = model.forward(batch, fo);
    sum += r.loss * static_cast<double>(r.loss_tokens);
    tokens += r.loss_tokens;
  }
  EXPECT_EQ(tokens, 10);  // answer + EOS per sample
  EXPECT_NEAR(eval_losses.back(), sum / static_cast<double>(tokens), 1e-5);
  EXPECT_NE(eval_losses.front(), eval_losses.back());
}

// Packing changes which rows the samples share, not what each computes (block-diagonal attention,
// positions restarting per sample): the updates equal the padded run's up to float summation order.
TEST(Trainer, PackingGivesThePaddedUpdate) {
  TempDir a, b;
  const std::string yaml = std::string(kLoraYaml) + "optimizer: {name: sgd, momentum: 0.0}\nmax_grad_norm: 0\nmax_steps: 3\n";
  const auto samples = mapping_task(8, 3, /*label_extra=*/true);
  run_training(a, config_for(a, yaml), samples);
  run_training(b, config_for(b, yaml, {"packing=true", "max_seq_len=16"}), samples);  // 4 samples of 4-7 tokens: 2 rows
  const auto padded = adapter_tensors(a / "run"), packed = adapter_tensors(b / "run");
  for (const auto& [name, values] : padded)
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_NEAR(values[i], packed.at(name)[i], 1e-6 + 1e-4 * std::abs(values[i])) << name << "[" << i << "]";
  TempDir c;
  try {
    run_training(c, config_for(c, yaml, {"packing=true", "max_seq_len=5"}), samples);
    FAIL() << "packed a 7-token sample into rows of 5";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("7 tokens, more than max_seq_len 5"), std::string::npos) << e.what();
  }
}

TEST(Trainer, RecomputeGivesTheSameWeights) {
  TempDir a, b;
  run_training(a, config_for(a, kLoraYaml, {"max_steps=3"}), mapping_task(8));
  run_training(b, config_for(b, kLoraYaml, {"max_steps=3", "recompute=true"}), mapping_task(8));
  EXPECT_EQ(read_file(a / "run" / "adapter_model.safetensors"), read_file(b / "run" / "adapter_model.safetensors"));
}

TEST(Trainer, AFreshRunDoesNotOverwriteAnother) {
  TempDir dir;
  run_training(dir, config_for(dir, kLoraYaml, {"max_steps=1"}), mapping_task(4));
  const std::string before = read_file(dir / "run" / "adapter_model.safetensors");
  EXPECT_THROW(run_training(dir, config_for(dir, kLoraYaml, {"max_steps=1", "seed=9"}), mapping_task(4)), Error);
  EXPECT_EQ(read_file(dir / "run" / "adapter_model.safetensors"), before);
}

TEST(Trainer, RefusesUnknownTargets) {
  TempDir dir;
  try {
    run_training(dir, config_for(dir, kLoraYaml, {"lora.target_modules=[q_proj, qproj]"}), mapping_task(4));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qproj"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("q_proj"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_training(dir, config_for(dir, kLoraYaml, {"max_steps=1"}), {}), Error);
}
