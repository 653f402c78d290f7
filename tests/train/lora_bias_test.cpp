// Training with lora.bias on a tiny random phi-2 (biases on every linear layer, the LayerNorms and
// lm_head): step 0 is the base model, a short run moves the chosen biases and the adapters and leaves
// every other base tensor bit-identical (also over an NF4 base), the result holds the biases, a resumed
// run ends bit-identical, new token rows leave a wholly trained lm_head.bias alone, and a model without
// biases (Llama) trains its adapters alone.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/safetensors.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"
#include "model/vocab_growth.hpp"
#include "train/new_token_rows.hpp"
#include "train/trainable_set.hpp"
#include "train/trainer.hpp"

using namespace slmtune;
using namespace slmtune::train;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;

namespace {

constexpr int32_t kSep = 5, kEos = 2, kPad = 3;

const tokenizer::Tokenizer& any_tokenizer() {  // only for the trainer's defaults
  static const tokenizer::Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  return tok;
}

std::filesystem::path base_path(const TempDir& dir, const std::string& preset) {
  const auto path = dir / ("base-" + preset);
  if (!std::filesystem::exists(path / "model.safetensors")) {
    RandomInitOptions options;
    options.seed = 13;
    write_random_model(find_model_preset(preset).config, path, options);
  }
  return path;
}

// [query, SEP, answer, EOS] with the answer and EOS labelled.
std::vector<Sample> mapping_task(int count) {
  std::vector<Sample> out;
  for (int q = 0; q < count; ++q) {
    Sample s;
    s.ids = {10 + q, kSep, 100 + (q * 7) % 50, kEos};
    s.labels = {kIgnoreIndex, kIgnoreIndex, s.ids[2], kEos};
    out.push_back(std::move(s));
  }
  return out;
}

TrainConfig config_for(const TempDir& dir, const std::string& bias, const std::string& targets,
                       const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> all = {"output_dir=" + (dir / "run").string(), "lora.bias=" + bias};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return parse_train_config("model: unused\ndata: {train: unused}\nthreads: 1\nseed: 3\nlogging_steps: 1\nmethod: lora\n"
                            "lora: {r: 4, lora_alpha: 8, target_modules: " + targets + "}\n"
                            "learning_rate: 0.01\nlr_scheduler_type: constant\nbatch_size: 4\nmax_steps: 4\n",
                            "test.yaml", all);
}

TrainerOptions quiet() {
  TrainerOptions o;
  o.pad_id = kPad;
  o.progress = false;
  return o;
}

// Trains and returns the weights object the run updated in place.
std::shared_ptr<ModelWeights> train_run(const TempDir& dir, const std::string& preset, const TrainConfig& config,
                                    const std::filesystem::path& resume = {}) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(base_path(dir, preset)));
  Trainer trainer(config, weights, any_tokenizer(), mapping_task(7), {}, {}, quiet());
  trainer.run(resume);
  return weights;
}

std::vector<float> values_of(const ModelWeights& weights, size_t i) {
  const WeightEntry& e = weights[i];
  if (const float* v = e.vector()) return {v, v + shape_numel(e.spec.shape)};
  return e.tensor.to_f32_vector();
}

// Names of the base tensors whose values differ between `a` and `b` (same model).
std::set<std::string> changed_tensors(const ModelWeights& a, const ModelWeights& b) {
  std::set<std::string> out;
  for (size_t i = 0; i < a.size(); ++i)
    if (values_of(a, i) != values_of(b, i)) out.insert(a[i].spec.hf_name);
  return out;
}

std::map<std::string, std::vector<float>> adapter_tensors(const std::filesystem::path& dir) {
  const auto file = safetensors::File::open(dir / "adapter_model.safetensors");
  std::map<std::string, std::vector<float>> out;
  for (const auto& t : file.tensors()) out[t.name] = file.tensor(t.name).to_f32_vector();
  return out;
}

}  // namespace

TEST(LoraBiasTraining, StepZeroIsTheBaseModel) {
  TempDir dir;
  const auto path = base_path(dir, "tiny-phi2");
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(path));
  const auto trainable = make_trainable_set(config_for(dir, "all", "all-linear"), weights, {});
  Transformer with_biases(weights);
  trainable->attach(with_biases);
  Transformer plain(std::make_shared<const ModelWeights>(ModelWeights::load_hf(path)));
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = 5;
  batch.input_ids = {7, 300, 12, 5, 41};
  EXPECT_EQ(with_biases.forward(batch).logits, plain.forward(batch).logits);
  // Adapters plus every bias of the file: 2 layers × (q, k, v, dense, fc1, fc2, input LayerNorm) + the
  // final LayerNorm and lm_head.
  size_t biases = 0;
  for (const auto& p : trainable->parameters(with_biases)) biases += p.name.ends_with(".bias");
  EXPECT_EQ(biases, 16u);
}

TEST(LoraBiasTraining, AllMovesEveryBiasAndNothingElseOfTheBase) {
  TempDir dir;
  const auto trained = train_run(dir, "tiny-phi2", config_for(dir, "all", "[q_proj, fc1]"));
  const ModelWeights base = ModelWeights::load_hf(base_path(dir, "tiny-phi2"));
  std::set<std::string> biases;
  for (const auto& e : base.entries())
    if (e.spec.hf_name.ends_with(".bias")) biases.insert(e.spec.hf_name);
  EXPECT_EQ(changed_tensors(*trained, base), biases);

  // The result holds each trained bias as it ended (PEFT's names) beside the adapters.
  const auto tensors = adapter_tensors(dir / "run");
  size_t lora = 0, bias = 0;
  for (const auto& [name, values] : tensors) {
    lora += name.find(".lora_") != std::string::npos;
    bias += name.ends_with(".bias");
  }
  EXPECT_EQ(lora, 2u * 2u * 2u);  // A and B of q_proj and fc1 in 2 layers
  EXPECT_EQ(bias, biases.size());
  const auto dense = static_cast<size_t>(trained->index("model.layers.1.self_attn.dense.bias"));
  EXPECT_EQ(tensors.at("base_model.model.model.layers.1.self_attn.dense.bias"), values_of(*trained, dense));
  const auto q = static_cast<size_t>(trained->index("model.layers.0.self_attn.q_proj.bias"));
  EXPECT_EQ(tensors.at("base_model.model.model.layers.0.self_attn.q_proj.base_layer.bias"), values_of(*trained, q));
  EXPECT_EQ(read_json_file(dir / "run" / "adapter_config.json").at("bias"), "all");
}

TEST(LoraBiasTraining, LoraOnlyMovesOnlyTheTargetedLayersBiases) {
  TempDir dir;
  const auto trained = train_run(dir, "tiny-phi2", config_for(dir, "lora_only", "[q_proj, fc1]"));
  const ModelWeights base = ModelWeights::load_hf(base_path(dir, "tiny-phi2"));
  EXPECT_EQ(changed_tensors(*trained, base),
            (std::set<std::string>{"model.layers.0.self_attn.q_proj.bias", "model.layers.0.mlp.fc1.bias",
                                   "model.layers.1.self_attn.q_proj.bias", "model.layers.1.mlp.fc1.bias"}));
  size_t bias = 0;
  for (const auto& [name, values] : adapter_tensors(dir / "run")) bias += name.ends_with(".base_layer.bias");
  EXPECT_EQ(bias, 4u);
}

TEST(LoraBiasTraining, QloraTrainsTheBiasesBesideAnNf4Base) {
  TempDir dir;
  const auto trained = train_run(dir, "tiny-phi2", config_for(dir, "all", "all-linear", {"method=qlora", "max_steps=2"}));
  const ModelWeights base = ModelWeights::load_hf(base_path(dir, "tiny-phi2"));
  const auto tensors = adapter_tensors(dir / "run");
  size_t moved = 0, biases = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    if (!base[i].spec.hf_name.ends_with(".bias")) continue;
    ++biases;
    EXPECT_FALSE((*trained)[i].is_nf4()) << base[i].spec.hf_name;
    moved += values_of(*trained, i) != values_of(base, i);
  }
  EXPECT_EQ(moved, biases);
  EXPECT_EQ(tensors.count("base_model.model.lm_head.bias"), 1u);
  EXPECT_EQ(tensors.count("base_model.model.model.layers.1.mlp.fc2.base_layer.bias"), 1u);
}

TEST(LoraBiasTraining, NewTokenRowsLeaveAnLmHeadBiasThatBiasAllTrainsWhole) {
  // phi-2's untied lm_head has a bias: new token rows train its new entries unless lora.bias all
  // trains it whole already (two optimizer entries would update those entries twice).
  for (const std::string bias : {"none", "all"}) {
    TempDir dir;
    const ModelWeights base = ModelWeights::load_hf(base_path(dir, "tiny-phi2"));
    auto weights = std::make_shared<ModelWeights>(grow_vocabulary(base, 2));
    auto trainable = train_new_token_rows(make_trainable_set(config_for(dir, bias, "all-linear"), weights, {}), weights,
                                          base.config().vocab_size);
    Transformer model(weights);
    trainable->attach(model);
    std::vector<std::string> lm_head_bias;
    for (const auto& p : trainable->parameters(model))
      if (p.name.find("lm_head.bias") != std::string::npos) lm_head_bias.push_back(p.name);
    if (bias == "none") EXPECT_EQ(lm_head_bias, std::vector<std::string>{"lm_head.bias.new_rows"});
    else EXPECT_EQ(lm_head_bias, std::vector<std::string>{"base_model.model.lm_head.bias"});
  }
}

TEST(LoraBiasTraining, AModelWithoutBiasesTrainsItsAdaptersAlone) {
  TempDir dir;
  const auto trained = train_run(dir, "tiny-llama", config_for(dir, "all", "all-linear"));
  EXPECT_TRUE(changed_tensors(*trained, ModelWeights::load_hf(base_path(dir, "tiny-llama"))).empty());
  for (const auto& [name, values] : adapter_tensors(dir / "run")) EXPECT_NE(name.find(".lora_"), std::string::npos) << name;
}

TEST(LoraBiasTraining, ResumingEndsBitIdentical) {
  TempDir dir, resumed;
  const std::vector<std::string> overrides = {"max_steps=6", "save_steps=3", "lora.lora_dropout=0.1"};
  train_run(dir, "tiny-phi2", config_for(dir, "all", "all-linear", overrides));
  std::filesystem::create_directories(resumed / "run");
  std::filesystem::copy(dir / "run" / "checkpoint-3", resumed / "run" / "checkpoint-3");
  train_run(resumed, "tiny-phi2", config_for(resumed, "all", "all-linear", overrides), resumed / "run");
  EXPECT_TRUE(read_file(dir / "run" / "adapter_model.safetensors") == read_file(resumed / "run" / "adapter_model.safetensors"))
      << "the resumed run's adapter and biases differ from the uninterrupted run's";
}

TEST(LoraBiasTraining, ACheckpointWithoutBiasesIsAnotherRun) {
  TempDir dir;
  train_run(dir, "tiny-phi2", config_for(dir, "none", "all-linear", {"max_steps=2", "save_steps=2"}));
  try {
    train_run(dir, "tiny-phi2", config_for(dir, "all", "all-linear", {"max_steps=4", "save_steps=2"}), dir / "run");
    FAIL() << "resumed a checkpoint without trained biases as a bias=all run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bias is (absent) there but \"all\" here"), std::string::npos) << e.what();
  }
  // And the other way round: trained biases resumed as bias none.
  TempDir other;
  train_run(other, "tiny-phi2", config_for(other, "all", "all-linear", {"max_steps=2", "save_steps=2"}));
  try {
    train_run(other, "tiny-phi2", config_for(other, "none", "all-linear", {"max_steps=4", "save_steps=2"}), other / "run");
    FAIL() << "resumed a checkpoint with trained biases as a bias=none run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bias is \"all\" there but \"none\" here"), std::string::npos) << e.what();
  }
}
