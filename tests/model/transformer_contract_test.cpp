// The transformer's contracts beyond the numbers of the goldens: bad input is one clear error, a
// linear adapter is exactly a weight delta (checked against a model whose weight has the delta
// merged in), frozen weights own no gradient memory, and recompute keeps less in memory.
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
using slmtune::model_testing::expect_close;

namespace {

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// y += x·Mᵀ with M [out, in]; backward adds dy·M to dx and accumulates dM = dyᵀ·x.
class DeltaAdapter : public LinearAdapter {
 public:
  DeltaAdapter(std::vector<float> m, int64_t out, int64_t in) : m_(std::move(m)), dm(m_.size()), out_(out), in_(in) {}
  void forward(float* y, const float* x, int64_t n) override {
    for (int64_t r = 0; r < n; ++r)
      for (int64_t o = 0; o < out_; ++o) {
        float sum = 0.0f;
        for (int64_t i = 0; i < in_; ++i) sum += x[r * in_ + i] * m_[o * in_ + i];
        y[r * out_ + o] += sum;
      }
  }
  void backward(float* dx, const float* dy, const float* x, int64_t n) override {
    for (int64_t r = 0; r < n; ++r)
      for (int64_t o = 0; o < out_; ++o)
        for (int64_t i = 0; i < in_; ++i) {
          dx[r * in_ + i] += dy[r * out_ + o] * m_[o * in_ + i];
          dm[o * in_ + i] += dy[r * out_ + o] * x[r * in_ + i];
        }
  }

 private:
  std::vector<float> m_;

 public:
  std::vector<float> dm;

 private:
  int64_t out_, in_;
};

void check_adapter_equals_merged_weight(const std::string& name, const std::string& linear, const std::string& module) {
  auto base = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden(name)));
  const std::string weight_name = "model.layers.1." + module + ".weight";
  const size_t index = static_cast<size_t>(base->index(weight_name));
  const Tensor& w = (*base)[index].tensor;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> delta(static_cast<size_t>(w.numel()));
  for (float& v : delta) v = normal(rng);
  auto adapter = std::make_shared<DeltaAdapter>(delta, w.dim(0), w.dim(1));

  auto merged = std::make_shared<ModelWeights>(*base);
  std::vector<float> sum = w.to_f32_vector();
  for (size_t i = 0; i < sum.size(); ++i) sum[i] += delta[i];
  Tensor merged_w = Tensor::zeros(DType::F32, w.shape());
  std::copy(sum.begin(), sum.end(), merged_w.as_mutable<float>());
  merged->replace(index, merged_w);

  const Batch batch = random_batch(base->config().vocab_size, 2, 5, 11);
  ForwardOptions options;
  options.activations = Activations::Recompute;  // the adapter's forward runs twice: still exact
  std::map<std::string, std::vector<float>> with_adapter, with_merge;
  Transformer a(base);
  a.set_adapter(1, linear, adapter);
  const auto ra = a.forward(batch, options);
  a.backward([&](const std::string& n, std::span<const float> g) { with_adapter[n].assign(g.begin(), g.end()); });
  Transformer b(merged);
  b.set_trainable(weight_name, true);
  const auto rb = b.forward(batch, options);
  b.backward([&](const std::string& n, std::span<const float> g) { with_merge[n].assign(g.begin(), g.end()); });
  EXPECT_NEAR(ra.loss, rb.loss, 1e-5 * rb.loss);
  ASSERT_EQ(with_adapter.size(), with_merge.size());
  for (const auto& [module_name, g] : with_merge) expect_close(with_adapter[module_name], g, name + " " + module_name);
  expect_close(adapter->dm, b.gradient(index), name + " adapter gradient vs merged weight gradient");
  EXPECT_EQ(a.gradient_bytes(), 0);
}

TEST(LinearAdapter, EqualsTheMergedWeightLlamaGateProj) { check_adapter_equals_merged_weight("llama", "gate_proj", "mlp.gate_proj"); }
TEST(LinearAdapter, EqualsTheMergedWeightPhi3FusedQkv) { check_adapter_equals_merged_weight("phi3", "qkv_proj", "self_attn.qkv_proj"); }
TEST(LinearAdapter, EqualsTheMergedWeightPhi2Fc1) { check_adapter_equals_merged_weight("phi2", "fc1", "mlp.fc1"); }

TEST(LinearAdapter, UnknownLinearIsRefused) {
  Transformer model(std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("llama"))));
  EXPECT_NE(error_of([&] { model.set_adapter(0, "qkv_proj", nullptr); }).find("no linear layer 'qkv_proj'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { model.set_adapter(7, "q_proj", nullptr); }).find("layer 7 out of range"), std::string::npos);
}

TEST(TransformerInput, TokenOutsideTheVocabularyIsOneClearError) {
  Transformer model(std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("qwen2"))));
  Batch batch = random_batch(96, 1, 4, 1);
  batch.input_ids[2] = 96;
  EXPECT_EQ(error_of([&] { model.forward(batch); }),
            "transformer: token id 96 at batch row 0, position 2 is outside the vocabulary (size 96)");
  batch.input_ids[2] = 1;
  batch.attention_mask = {1, 1};
  EXPECT_NE(error_of([&] { model.forward(batch); }).find("attention_mask has 2 entries, expected 4"),
            std::string::npos);
  batch.attention_mask.clear();
  batch.position_ids = {0, 1, 2, 64};
  EXPECT_NE(error_of([&] { model.forward(batch); }).find("beyond the model's context of 64"), std::string::npos);
  EXPECT_NE(error_of([&] { model.backward(); }).find("needs a training forward"), std::string::npos);
}

TEST(TransformerInput, WeightsThatDoNotMatchTheConfigAreRefused) {
  slmtune::testing::TempDir dir;
  std::filesystem::copy_file(golden("llama") / "config.json", dir / "config.json");
  const auto source = safetensors::Model::open(golden("llama"));
  safetensors::Writer writer;
  for (const auto& name : source.names())
    if (name != "model.layers.1.mlp.up_proj.weight") writer.add(name, source.tensor(name));
  writer.write(dir / "model.safetensors");
  EXPECT_EQ(error_of([&] { ModelWeights::load(dir.path()); }),
            dir.path().string() +
                ": tensor 'model.layers.1.mlp.up_proj.weight' is missing (expected shape [64, 32] for LlamaForCausalLM)");
}

TEST(TransformerInput, CheckNumericsNamesTheLayer) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("llama")));
  const size_t index = static_cast<size_t>(weights->index("model.layers.1.mlp.down_proj.weight"));
  Tensor bad = (*weights)[index].tensor.to_f32();
  bad.as_mutable<float>()[3] = NAN;
  weights->replace(index, bad);
  Transformer model(weights);
  ForwardOptions options;
  options.check_numerics = true;
  const std::string message = error_of([&] { model.forward(random_batch(96, 1, 4, 2), options); });
  EXPECT_NE(message.find("non-finite value"), std::string::npos) << message;
  EXPECT_NE(message.find("model.layers.1"), std::string::npos) << message;
}

TEST(ActivationCheckpointing, RecomputeKeepsLessAndGivesIdenticalGradients) {
  ModelConfig config = find_model_preset("tiny-llama").config;
  config.num_layers = 4;
  slmtune::testing::TempDir dir;
  write_random_model(config, dir.path(), {});
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load(dir.path()));
  const Batch batch = random_batch(config.vocab_size, 2, 32, 4);
  int64_t kept[2] = {0, 0}, scratch[2] = {0, 0};
  std::vector<float> grads[2];
  for (int mode = 0; mode < 2; ++mode) {
    Transformer model(weights);
    model.set_trainable("model.layers.0.self_attn.q_proj.weight", true);
    ForwardOptions options;
    options.activations = mode == 0 ? Activations::Keep : Activations::Recompute;
    model.forward(batch, options);
    kept[mode] = model.activation_bytes();
    model.backward();
    scratch[mode] = model.peak_scratch_bytes();
    const auto g = model.gradient(static_cast<size_t>(weights->index("model.layers.0.self_attn.q_proj.weight")));
    grads[mode].assign(g.begin(), g.end());
  }
  std::printf("activations kept: %lld bytes (keep) vs %lld bytes + %lld bytes of one block's recompute (recompute)\n",
              static_cast<long long>(kept[0]), static_cast<long long>(kept[1]), static_cast<long long>(scratch[1]));
  EXPECT_LT(kept[1] + scratch[1], kept[0]);
  EXPECT_EQ(grads[0], grads[1]);  // the same arithmetic in the same order
}

}  // namespace
