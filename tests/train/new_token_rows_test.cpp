// Tokens added at run time (functional tokens) trained under LoRA: on a tiny random Llama grown by
// two rows, a task whose answer is one of the NEW tokens (by the query's parity) is learnt (the
// token-mean loss falls from ~ln(514) ≈ 6.2 to under 0.5), while every old row of the embedding and
// lm_head stays bit-identical and the new rows move. The result carries PEFT's trainable tokens.
#include <gtest/gtest.h>

#include <cstring>

#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "formats/safetensors.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/vocab_growth.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"
#include "train/metrics_log.hpp"
#include "train/new_token_rows.hpp"
#include "train/trainer.hpp"

using namespace slmtune;
using namespace slmtune::train;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;

namespace {

constexpr int32_t kSep = 5, kEos = 2, kPad = 3;

std::vector<float> values_of(const ModelWeights& w, const char* name) {
  return w[static_cast<size_t>(w.index(name))].tensor.to_f32_vector();
}

class NewTokenRows : public ::testing::TestWithParam<const char*> {};

TEST_P(NewTokenRows, LearnsToEmitNewTokensAndLeavesOldRowsBitIdentical) {
  const std::string method = GetParam();
  TempDir dir;
  RandomInitOptions init;
  init.seed = 11;
  init.init_std = 0.2f;
  write_random_model(find_model_preset("tiny-llama").config, dir / "base", init);
  const ModelWeights base = ModelWeights::load_hf(dir / "base");
  const int64_t vocab = base.config().vocab_size;
  auto weights = std::make_shared<ModelWeights>(grow_vocabulary(base, 2));
  const ModelWeights before = grow_vocabulary(base, 2);  // an untouched copy of the same growth

  std::vector<Sample> samples;
  for (int q = 0; q < 16; ++q) {
    Sample s;
    const auto answer = static_cast<int32_t>(vocab + q % 2);  // <fn_a> or <fn_b>
    s.ids = {10 + q, kSep, answer, kEos};
    s.labels = {kIgnoreIndex, kIgnoreIndex, answer, kEos};
    samples.push_back(std::move(s));
  }
  const TrainConfig config = parse_train_config(
      "model: unused\ndata: {train: unused}\nthreads: 1\nseed: 3\nlogging_steps: 1\nmax_steps: 60\n"
      "method: " + method + "\nlora: {r: 8, lora_alpha: 16, lora_dropout: 0.0, target_modules: all-linear}\n"
      "learning_rate: 0.01\nlr_scheduler_type: constant\nbatch_size: 4\n",
      "test.yaml", {"output_dir=" + (dir / "run").string()});
  static const tokenizer::Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  TrainerOptions options;
  options.pad_id = kPad;
  options.progress = false;
  options.new_tokens_from = vocab;
  Trainer trainer(config, weights, tok, samples, {}, {}, options);
  const TrainResult result = trainer.run();
  EXPECT_LT(result.final_train_loss, 0.5);
  EXPECT_GT(read_metrics_jsonl(dir / "run" / "metrics.jsonl").front().loss, 3.0);  // untrained: far from the new tokens

  for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"}) {
    const auto now = values_of(*weights, name), then = values_of(before, name);
    ASSERT_EQ(now.size(), then.size());
    const size_t old_size = static_cast<size_t>(vocab) * (now.size() / static_cast<size_t>(vocab + 2));
    EXPECT_EQ(0, std::memcmp(now.data(), then.data(), old_size * sizeof(float))) << name << ": an old row changed";
    double moved = 0;
    for (size_t i = old_size; i < now.size(); ++i) moved = std::max(moved, std::fabs(static_cast<double>(now[i]) - then[i]));
    EXPECT_GT(moved, 1e-3) << name << ": the new rows did not train";
  }

  // PEFT's trainable tokens: indices in the config, deltas (trained − initial) in the weights.
  const Json adapter_config = read_json_file(dir / "run" / "adapter_config.json");
  EXPECT_EQ(adapter_config.at("trainable_token_indices").at("embed_tokens"), Json::array({vocab, vocab + 1}));
  const auto file = safetensors::File::open(dir / "run" / "adapter_model.safetensors");
  ASSERT_NE(file.find(kEmbedTokensDelta), nullptr);
  EXPECT_EQ(file.find(kEmbedTokensDelta)->shape, (Shape{2, base.config().hidden_size}));
  const auto delta = file.tensor(kEmbedTokensDelta).to_f32_vector();
  const auto now = values_of(*weights, "model.embed_tokens.weight"), then = values_of(before, "model.embed_tokens.weight");
  for (size_t k = 0; k < delta.size(); ++k)
    EXPECT_EQ(delta[k], now[static_cast<size_t>(vocab) * static_cast<size_t>(base.config().hidden_size) + k] -
                            then[static_cast<size_t>(vocab) * static_cast<size_t>(base.config().hidden_size) + k]);
  EXPECT_NE(file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), nullptr) << "the LoRA tensors are kept";
}

// A run resumed from a checkpoint ends with the same adapter, new rows included, as one that ran through.
TEST(NewTokenRowsResume, ResumedRunEndsBitIdentical) {
  TempDir dir;
  RandomInitOptions init;
  init.seed = 11;
  init.init_std = 0.2f;
  write_random_model(find_model_preset("tiny-llama").config, dir / "base", init);
  const ModelWeights base = ModelWeights::load_hf(dir / "base");
  const int64_t vocab = base.config().vocab_size;
  std::vector<Sample> samples;
  for (int q = 0; q < 7; ++q) {
    Sample s;
    const auto answer = static_cast<int32_t>(vocab + q % 2);
    s.ids = {10 + q, kSep, answer, kEos};
    s.labels = {kIgnoreIndex, kIgnoreIndex, answer, kEos};
    samples.push_back(std::move(s));
  }
  static const tokenizer::Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  const auto run = [&](const std::filesystem::path& out, const std::filesystem::path& resume) {
    const TrainConfig config = parse_train_config(
        "model: unused\ndata: {train: unused}\nthreads: 1\nseed: 3\nlogging_steps: 1\nmax_steps: 10\nsave_steps: 4\n"
        "method: lora\nlora: {r: 8, lora_alpha: 16, lora_dropout: 0.1, target_modules: all-linear}\n"
        "learning_rate: 0.01\nbatch_size: 4\n",
        "test.yaml", {"output_dir=" + out.string()});
    TrainerOptions options;
    options.pad_id = kPad;
    options.progress = false;
    options.new_tokens_from = vocab;
    Trainer trainer(config, std::make_shared<ModelWeights>(grow_vocabulary(base, 2)), tok, samples, {}, {}, options);
    return trainer.run(resume);
  };
  run(dir / "run", {});
  std::filesystem::create_directories(dir / "resumed");
  std::filesystem::copy(dir / "run" / "checkpoint-4", dir / "resumed" / "checkpoint-4");
  EXPECT_EQ(run(dir / "resumed", dir / "resumed").steps, 10);
  EXPECT_EQ(read_file(dir / "run" / "adapter_model.safetensors"), read_file(dir / "resumed" / "adapter_model.safetensors"));
}

INSTANTIATE_TEST_SUITE_P(Methods, NewTokenRows, ::testing::Values("lora", "dora", "qlora"));

}  // namespace
