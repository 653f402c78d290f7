// `slmtune merge`: the merged folder's logits equal those of the base model with the adapter attached
// (computed here in-process through the unmerged path), the tokenizer files travel along, and bad
// input is one line with nothing left behind.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/atomic_file.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/transformer.hpp"
#include "peft/adapter_biases.hpp"
#include "peft/adapter_io.hpp"
#include "peft/lora_model.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::testing::expect_one_line_error;
using slmtune::testing::run_slmtune;
using slmtune::testing::shell_quote;
using slmtune::testing::TempDir;
using slmtune::testing::write_text;

namespace {

std::vector<float> logits_of(std::shared_ptr<const ModelWeights> weights, const peft::LoraModel* adapters) {
  Transformer model(std::move(weights));
  if (adapters) adapters->attach(model);
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = 7;
  batch.input_ids = {3, 17, 5, 42, 9, 1, 30};
  return model.forward(batch).logits;
}

// A base model and a DoRA or LoRA adapter moved away from its identity start, saved in PEFT's format.
struct Fixture {
  TempDir dir;
  std::filesystem::path model = dir / "model", adapter = dir / "adapter", out = dir / "merged";
  std::shared_ptr<const ModelWeights> base;
  std::unique_ptr<peft::LoraModel> adapters;

  // With `bias` the base's biases move too, as lora.bias training moves them: `base` is then the
  // trained weights, which the adapter file carries the biases of.
  explicit Fixture(bool dora, const std::string& preset = "tiny-llama", peft::LoraBias bias = peft::LoraBias::None) {
    write_random_model(find_model_preset(preset).config, model, RandomInitOptions{});  // f32
    auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(model));
    peft::LoraConfig config;
    config.r = 4;
    config.lora_alpha = 8;
    config.target_regex = "all-linear";
    config.use_dora = dora;
    config.bias = bias;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    for (const auto& b : peft::adapter_biases(config, weights->config()))
      for (float& v : weights->trainable_values(static_cast<size_t>(weights->index(b.hf_name)))) v += 2.0f * normal(rng);
    base = weights;
    adapters = std::make_unique<peft::LoraModel>(config, base, 11);
    for (size_t i = 0; i < adapters->size(); ++i)
      for (const auto& p : adapters->adapter(i).parameters())
        for (float& v : p.value) v += normal(rng);
    peft::save_adapter(*adapters, adapter);
    write_text(adapter / "tokenizer.json", "{\"from\": \"the run\"}");
    write_text(model / "tokenizer.json", "{\"from\": \"the model\"}");
  }
  std::string merge(const std::string& extra = "") const {
    return "merge --model " + shell_quote(model) + " --adapter " + shell_quote(adapter) + " --out " + shell_quote(out) + extra;
  }
};

// The merged folder's logits equal the adapted model's to f32 rounding: the largest difference is
// within 1e-5 of the largest logit.
void expect_same_logits(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(got[i] - want[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(want[i])));
  }
  EXPECT_LE(worst, 1e-5 * scale) << what;
}

}  // namespace

TEST(MergeCli, MergedFolderGivesTheAdaptedLogits) {
  for (bool dora : {false, true}) {
    Fixture f(dora);
    const auto result = run_slmtune(f.merge());
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find(dora ? "DoRA adapters" : "LoRA adapters"), std::string::npos) << result.out;
    const auto merged = std::make_shared<const ModelWeights>(ModelWeights::load_hf(f.out));
    const auto want = logits_of(f.base, f.adapters.get());
    expect_same_logits(logits_of(merged, nullptr), want, dora ? "DoRA" : "LoRA");
    EXPECT_NE(logits_of(f.base, nullptr), want) << "the adapter must change the outputs for this test to mean anything";
    EXPECT_EQ(slmtune::read_file(f.out / "tokenizer.json"), "{\"from\": \"the run\"}");
    EXPECT_FALSE(std::filesystem::exists(f.dir / "merged.partial"));
  }
}

TEST(MergeCli, TrainedBiasesGoIntoTheMergedFolder) {
  for (bool dora : {false, true}) {
    Fixture f(dora, "tiny-phi2", peft::LoraBias::All);
    const auto result = run_slmtune(f.merge());
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto merged = std::make_shared<const ModelWeights>(ModelWeights::load_hf(f.out));
    const auto want = logits_of(f.base, f.adapters.get());
    expect_same_logits(logits_of(merged, nullptr), want, dora ? "DoRA" : "LoRA");
    // The merged biases are the trained ones, not the model folder's.
    const auto stored = ModelWeights::load_hf(f.model);
    const int i = merged->index("model.layers.1.self_attn.dense.bias");
    ASSERT_GE(i, 0);
    const float* trained = (*f.base)[static_cast<size_t>(i)].vector();
    const float* written = (*merged)[static_cast<size_t>(i)].vector();
    EXPECT_TRUE(std::equal(written, written + 64, trained));
    EXPECT_FALSE(std::equal(written, written + 64, stored[static_cast<size_t>(i)].vector()));
  }
}

TEST(MergeCli, BadInputIsOneLineAndLeavesNothing) {
  Fixture f(false);
  std::filesystem::create_directories(f.out);
  expect_one_line_error(run_slmtune(f.merge()), "already exists");
  EXPECT_EQ(run_slmtune(f.merge(" --force")).exit_code, 0);

  std::filesystem::remove(f.adapter / "adapter_model.safetensors");
  std::filesystem::remove_all(f.out);
  expect_one_line_error(run_slmtune(f.merge()), "adapter_model.safetensors");
  EXPECT_FALSE(std::filesystem::exists(f.out));
  EXPECT_FALSE(std::filesystem::exists(f.dir / "merged.partial"));
}
