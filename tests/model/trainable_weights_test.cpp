// Full fine-tuning's contract with the weights: an optimizer that updates trainable_values() in place
// changes the very next forward exactly as a model built from the updated tensors would compute, a
// copy taken before the step keeps the old values, and save_hf_model writes a directory that loads
// back to the same logits.
#include <gtest/gtest.h>

#include <random>

#include "core/error.hpp"
#include "formats/safetensors.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"
#include "model/transformer.hpp"
#include "model_test_util.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::model_testing::golden;
using slmtune::model_testing::random_batch;

namespace {

std::vector<float> logits_of(const std::shared_ptr<const ModelWeights>& weights, const Batch& batch) {
  Transformer model(weights);
  return model.forward(batch).logits;
}

// One SGD step (w -= lr·g on every parameter) done in place through trainable_values, against the
// same arithmetic done on f32 copies of the source tensors and loaded through from_tensors.
void check_sgd_step(const std::filesystem::path& model_dir, const std::string& what) {
  SCOPED_TRACE(what);
  const auto source = std::make_shared<const ModelWeights>(ModelWeights::load(model_dir));
  auto live = std::make_shared<ModelWeights>(ModelWeights::load(model_dir));
  const Batch batch = random_batch(source->config().vocab_size, 2, 7, 5);
  const float lr = 0.5f;

  Transformer model(live);
  model.set_all_trainable(true);
  const std::vector<float> before = model.forward(batch).logits;
  ForwardOptions train;
  train.activations = Activations::Keep;
  train.logits = LogitsMode::None;
  model.forward(batch, train);
  model.backward();

  std::vector<std::vector<float>> updated(live->size());
  for (size_t i = 0; i < live->size(); ++i) {
    updated[i] = (*source)[i].tensor.to_f32_vector();
    const auto g = model.gradient(i);
    ASSERT_EQ(g.size(), updated[i].size()) << (*live)[i].spec.hf_name;
    for (size_t j = 0; j < g.size(); ++j) updated[i][j] -= lr * g[j];
  }
  for (size_t i = 0; i < live->size(); ++i) live->trainable_values(i);  // all writable before the snapshot
  // (bf16 sources now run through BLAS on their f32 copies instead of tile expansion: same values,
  // different summation order, so the snapshot compares with logits taken after the conversion.)
  const std::vector<float> converted = model.forward(batch).logits;
  const auto snapshot = std::make_shared<const ModelWeights>(*live);
  for (size_t i = 0; i < live->size(); ++i) {
    const std::span<float> values = live->trainable_values(i);
    const auto g = model.gradient(i);
    for (size_t j = 0; j < values.size(); ++j) values[j] -= lr * g[j];
    EXPECT_EQ(live->trainable_values(i).data(), values.data()) << "converted once";
  }
  // The same Transformer: nothing derived from the weights may be cached across forwards.
  const std::vector<float> after = model.forward(batch).logits;

  const auto rebuilt = std::make_shared<const ModelWeights>(ModelWeights::from_tensors(
      source->config(),
      [&](const std::string& name) {
        const size_t i = static_cast<size_t>(source->index(name));
        const auto* bytes = reinterpret_cast<const std::byte*>(updated[i].data());
        return Tensor::from_bytes(DType::F32, (*source)[i].spec.shape, {bytes, updated[i].size() * sizeof(float)});
      },
      "rebuilt"));
  const std::vector<float> want = logits_of(rebuilt, batch);
  ASSERT_EQ(after.size(), want.size());
  EXPECT_EQ(after, want) << "in-place update differs from the model built from the updated tensors";
  double change = 0.0;
  for (size_t i = 0; i < after.size(); ++i) change = std::max(change, std::fabs(double(after[i]) - before[i]));
  EXPECT_GT(change, 1e-3) << "the step must visibly change the logits";
  EXPECT_EQ(logits_of(snapshot, batch), converted) << "a copy taken before the step must keep the old values";

  // The updated model written as a HF directory loads back to the same logits (f32: bit for bit).
  slmtune::testing::TempDir dir;
  save_hf_model(*live, dir.path(), /*as_f32=*/true);
  const auto reloaded = std::make_shared<const ModelWeights>(ModelWeights::load_hf(dir.path()));
  EXPECT_EQ(logits_of(reloaded, batch), after);
}

}  // namespace

TEST(TrainableValues, SgdStepInPlaceEqualsModelFromUpdatedTensorsQwen2) { check_sgd_step(golden("qwen2"), "qwen2"); }
TEST(TrainableValues, SgdStepInPlaceEqualsModelFromUpdatedTensorsPhi2) { check_sgd_step(golden("phi2"), "phi2"); }

TEST(TrainableValues, Bf16ModelIsWidenedOnceAndSavedInItsOwnDtype) {
  ModelConfig config = find_model_preset("tiny-llama").config;
  config.num_layers = 2;
  slmtune::testing::TempDir source_dir;
  write_random_model(config, source_dir.path(), {DType::BF16, 7, 0.02f});
  check_sgd_step(source_dir.path(), "bf16 tiny-llama");

  auto weights = std::make_shared<ModelWeights>(ModelWeights::load(source_dir.path()));
  const int norm = weights->index("model.layers.0.input_layernorm.weight");
  const int proj = weights->index("model.layers.1.mlp.up_proj.weight");
  ASSERT_GE(norm, 0);
  ASSERT_GE(proj, 0);
  EXPECT_EQ((*weights)[static_cast<size_t>(proj)].tensor.dtype(), DType::BF16);
  weights->trainable_values(static_cast<size_t>(norm))[3] = 1.5f;
  weights->trainable_values(static_cast<size_t>(proj))[10] = 0.25f;
  EXPECT_EQ((*weights)[static_cast<size_t>(norm)].vector()[3], 1.5f) << "1-D: one storage for tensor and vector()";
  EXPECT_EQ((*weights)[static_cast<size_t>(norm)].tensor.as<float>()[3], 1.5f);

  slmtune::testing::TempDir out;
  save_hf_model(*weights, out.path());
  const auto file = safetensors::File::open(out / "model.safetensors");
  for (const auto& info : file.tensors()) EXPECT_EQ(info.dtype, DType::BF16) << info.name;
  EXPECT_EQ(file.tensor("model.layers.0.input_layernorm.weight").to_f32_vector()[3], 1.5f);
  EXPECT_EQ(file.tensor("model.layers.1.mlp.up_proj.weight").to_f32_vector()[10], 0.25f);  // exact in bf16
  EXPECT_EQ(file.find("lm_head.weight") != nullptr, !config.tie_word_embeddings);
  EXPECT_EQ(ModelWeights::load_hf(out.path()).config().hidden_size, config.hidden_size);
}

TEST(TrainableValues, NothingCanTrainAnNf4Weight) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("llama")));
  weights->quantize_linears_nf4();
  const size_t q = static_cast<size_t>(weights->index("model.layers.0.self_attn.q_proj.weight"));
  try {
    weights->trainable_values(q);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'model.layers.0.self_attn.q_proj.weight' is stored in NF4"),
              std::string::npos)
        << e.what();
  }
  Transformer model(weights);
  EXPECT_THROW(model.set_trainable(q, true), Error);
  model.set_trainable("model.norm.weight", true);  // the rest of the model still trains
  EXPECT_FALSE(weights->trainable_values(static_cast<size_t>(weights->index("model.norm.weight"))).empty());
}
