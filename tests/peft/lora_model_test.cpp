// Adapters on a whole Transformer (tiny presets with random weights written and loaded as a Hugging
// Face directory): step 0 reproduces the base model exactly, merged weights give the adapted
// outputs, and PEFT-format files round-trip.
#include <gtest/gtest.h>

#include <random>

#include "core/error.hpp"
#include "formats/safetensors.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/transformer.hpp"
#include "peft/adapter_io.hpp"
#include "peft/dora.hpp"
#include "peft/lora_model.hpp"
#include "support/random_batch.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using namespace slmtune::peft;
using slmtune::testing::TempDir;

namespace {

std::shared_ptr<const ModelWeights> tiny_model(const std::string& preset, const TempDir& dir, DType dtype = DType::F32) {
  RandomInitOptions options;
  options.seed = 5;
  options.dtype = dtype;
  write_random_model(find_model_preset(preset).config, dir / "base", options);
  return std::make_shared<const ModelWeights>(ModelWeights::load_hf(dir / "base"));
}

Batch batch_for(int64_t vocab) { return slmtune::testing::random_batch(vocab, 2, 6, 1); }

std::vector<float> logits_of(std::shared_ptr<const ModelWeights> weights, const LoraModel* adapters) {
  Transformer model(std::move(weights));
  if (adapters) adapters->attach(model);
  return model.forward(batch_for(model.config().vocab_size)).logits;
}

LoraConfig all_linear(bool dora, LoraInit init) {
  LoraConfig c;
  c.r = 4;
  c.lora_alpha = 8;
  c.target_regex = "all-linear";
  c.use_dora = dora;
  c.init_lora_weights = init;
  return c;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tolerance, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0.0, worst = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
    worst = std::max(worst, static_cast<double>(std::fabs(got[i] - want[i])));
  }
  EXPECT_LE(worst, tolerance * scale) << what << " (scale " << scale << ")";
}

// Moves every adapter away from its identity start, as training would.
void perturb(LoraModel& model) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  for (size_t i = 0; i < model.size(); ++i)
    for (const auto& p : model.adapter(i).parameters())
      for (float& v : p.value) v += p.name == "lora_magnitude_vector" ? 0.1f * normal(rng) : normal(rng);
}

}  // namespace

TEST(LoraModel, StepZeroEqualsTheBaseModel) {
  for (const std::string preset : {"tiny-llama", "tiny-qwen2", "tiny-phi3", "tiny-phi2"})
    for (bool dora : {false, true}) {
      TempDir dir;
      const auto base = tiny_model(preset, dir, DType::BF16);
      LoraModel adapters(all_linear(dora, LoraInit::Default), base, 3);
      EXPECT_EQ(logits_of(base, &adapters), logits_of(base, nullptr)) << preset << (dora ? " DoRA" : " LoRA");
    }
}

// QLoRA with DoRA: the adapters read an NF4 base through its blocks, so they must give what the same
// adapters give on that base de-quantized to f32 (save_hf_model writes NF4 entries de-quantized).
TEST(LoraModel, DoraOnAnNf4BaseEqualsDoraOnItsDequantizedWeights) {
  TempDir dir;
  write_random_model(find_model_preset("tiny-llama").config, dir / "base", RandomInitOptions{});
  auto nf4 = std::make_shared<ModelWeights>(ModelWeights::load_hf(dir / "base"));
  ASSERT_GT(nf4->quantize_linears_nf4(), 0);
  save_hf_model(*nf4, dir / "dequantized", /*as_f32=*/true);
  const auto dequantized = std::make_shared<const ModelWeights>(ModelWeights::load_hf(dir / "dequantized"));

  LoraModel on_nf4(all_linear(true, LoraInit::Default), nf4, 3);
  LoraModel on_f32(all_linear(true, LoraInit::Default), dequantized, 3);
  perturb(on_nf4);
  perturb(on_f32);
  expect_close(logits_of(nf4, &on_nf4), logits_of(dequantized, &on_f32), 1e-5, "DoRA on NF4 vs de-quantized");
}

TEST(LoraModel, MergingIntoAnNf4BaseGivesTheAdaptedOutputs) {
  for (bool dora : {false, true}) {
    TempDir dir;
    write_random_model(find_model_preset("tiny-qwen2").config, dir / "base", RandomInitOptions{});
    auto nf4 = std::make_shared<ModelWeights>(ModelWeights::load_hf(dir / "base"));
    ASSERT_GT(nf4->quantize_linears_nf4(), 0);
    LoraModel adapters(all_linear(dora, LoraInit::Default), nf4, 3);
    perturb(adapters);
    expect_close(logits_of(adapters.merged_weights(), nullptr), logits_of(nf4, &adapters), 1e-5,
                 dora ? "merged DoRA on NF4" : "merged LoRA on NF4");
  }
}

TEST(LoraModel, MergedWeightsGiveTheAdaptedOutputs) {
  for (const std::string preset : {"tiny-qwen2", "tiny-phi3"})
    for (bool dora : {false, true}) {
      TempDir dir;
      const auto base = tiny_model(preset, dir);
      LoraModel adapters(all_linear(dora, LoraInit::Default), base, 3);
      perturb(adapters);
      const auto adapted = logits_of(base, &adapters);
      const auto merged = logits_of(adapters.merged_weights(), nullptr);
      const auto plain = logits_of(base, nullptr);
      expect_close(merged, adapted, 1e-5, preset + (dora ? " DoRA" : " LoRA"));
      double change = 0.0;
      for (size_t i = 0; i < plain.size(); ++i) change = std::max(change, static_cast<double>(std::fabs(plain[i] - adapted[i])));
      EXPECT_GT(change, 1e-3) << "the perturbed adapters must change the output";
    }
}

TEST(LoraModel, AdapterGradientsFlowThroughTheTransformer) {
  // dB of one adapter from Transformer::backward against a central difference of the loss.
  TempDir dir;
  const auto base = tiny_model("tiny-llama", dir);
  LoraConfig config = all_linear(false, LoraInit::Zero);
  LoraModel adapters(config, base, 3);
  Transformer model(base);
  adapters.attach(model);
  const Batch batch = batch_for(model.config().vocab_size);
  ForwardOptions options;
  options.logits = LogitsMode::None;
  options.activations = Activations::Recompute;
  model.forward(batch, options);
  model.backward();
  LoraAdapter& a = adapters.adapter(3);  // layer 0 o_proj
  ASSERT_EQ(adapters.targets()[3].linear_name, "o_proj");
  for (size_t k : {size_t{0}, size_t{17}, a.lora_B().size() - 1}) {
    const float keep = a.lora_B()[k];
    const float h = 1e-2f;
    a.lora_B()[k] = keep + h;
    const double up = model.forward(batch, {LogitsMode::None}).loss;
    a.lora_B()[k] = keep - h;
    const double down = model.forward(batch, {LogitsMode::None}).loss;
    a.lora_B()[k] = keep;
    const double fd = (up - down) / (2.0 * h);
    EXPECT_NEAR(a.grad_B()[k], fd, 2e-3 * std::fabs(fd) + 2e-5) << k;
  }
}

TEST(AdapterIo, PeftFilesRoundTrip) {
  for (bool dora : {false, true}) {
    TempDir dir;
    const auto base = tiny_model("tiny-qwen2", dir);
    LoraConfig config = all_linear(dora, LoraInit::Default);
    config.target_regex.reset();
    config.target_modules = {"q_proj", "v_proj", "down_proj"};
    config.lora_dropout = 0.1;
    config.base_model_name_or_path = "tiny-qwen2";
    LoraModel adapters(config, base, 11);
    perturb(adapters);
    save_adapter(adapters, dir / "adapter");

    const Json written = read_json_file(dir / "adapter" / "adapter_config.json");
    EXPECT_EQ(written.at("peft_type"), "LORA");
    EXPECT_EQ(written.at("task_type"), "CAUSAL_LM");
    EXPECT_EQ(written.at("r"), 4);
    EXPECT_EQ(written.at("use_dora"), dora);
    EXPECT_EQ(written.at("target_modules"), (Json{"q_proj", "v_proj", "down_proj"}));
    const auto file = safetensors::File::open(dir / "adapter" / "adapter_model.safetensors");
    const auto* a = file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (Shape{4, 64}));
    ASSERT_NE(file.find("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"), nullptr);
    EXPECT_EQ(file.find("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight")->shape, (Shape{64, 4}));
    EXPECT_EQ(file.find("base_model.model.model.layers.0.self_attn.v_proj.lora_magnitude_vector") != nullptr, dora);
    EXPECT_EQ(file.tensors().size(), (dora ? 3u : 2u) * 6u);

    const auto loaded = load_adapter(dir / "adapter", base);
    ASSERT_EQ(loaded->size(), adapters.size());
    EXPECT_EQ(loaded->config().lora_dropout, 0.1);
    EXPECT_EQ(loaded->config().base_model_name_or_path, "tiny-qwen2");
    for (size_t i = 0; i < adapters.size(); ++i) {
      auto want = adapters.adapter(i).parameters();
      auto got = loaded->adapter(i).parameters();
      ASSERT_EQ(got.size(), want.size());
      for (size_t p = 0; p < want.size(); ++p)
        EXPECT_TRUE(std::equal(got[p].value.begin(), got[p].value.end(), want[p].value.begin())) << want[p].name;
    }
    adapters.set_training(false);
    loaded->set_training(false);
    EXPECT_EQ(logits_of(base, loaded.get()), logits_of(base, &adapters));

    // The merged Hugging Face directory loads as a plain model with the adapted outputs.
    save_merged_model(*loaded, dir / "merged");
    const auto merged = std::make_shared<const ModelWeights>(ModelWeights::load_hf(dir / "merged"));
    expect_close(logits_of(merged, nullptr), logits_of(base, &adapters), 1e-5, dora ? "merged DoRA dir" : "merged LoRA dir");
  }
}

TEST(AdapterIo, MissingOrMisshapedTensorsAreOneLine) {
  TempDir dir;
  const auto base = tiny_model("tiny-llama", dir);
  LoraConfig config = all_linear(false, LoraInit::Default);
  config.target_regex.reset();
  config.target_modules = {"q_proj"};
  LoraModel adapters(config, base, 1);
  save_adapter(adapters, dir / "adapter");
  // Claim r = 8 while the tensors hold r = 4.
  Json json = read_json_file(dir / "adapter" / "adapter_config.json");
  json["r"] = 8;
  slmtune::testing::write_text(dir / "adapter" / "adapter_config.json", json.dump());
  try {
    load_adapter(dir / "adapter", base);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [4, 64], expected [8, 64]"),
              std::string::npos) << e.what();
  }
  json["r"] = 4;
  json["target_modules"] = {"q_proj", "k_proj"};
  slmtune::testing::write_text(dir / "adapter" / "adapter_config.json", json.dump());
  try {
    load_adapter(dir / "adapter", base);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k_proj.lora_A.weight' is missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_adapter(dir / "nowhere", base), Error);
}
