// QLoRA's base inside the transformer: after quantize_linears_nf4 the blocks' linear weights are NF4
// (and nothing else is), the model computes what the same weights de-quantized to f32 compute, and a
// LoRA adapter on top gets the gradient finite differences of the loss give.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "core/error.hpp"
#include "kernels/matmul.hpp"
#include "model/transformer.hpp"
#include "model_test_util.hpp"
#include "quant/nf4.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::model_testing::golden;
using slmtune::model_testing::random_batch;
using slmtune::model_testing::expect_close;

namespace {

// The same weights with every NF4 entry replaced by its de-quantized f32 values.
std::shared_ptr<ModelWeights> dequantized_copy(const ModelWeights& quantized) {
  auto plain = std::make_shared<ModelWeights>(quantized);
  for (size_t i = 0; i < plain->size(); ++i) {
    const auto& nf4 = (*plain)[i].nf4;
    if (!nf4) continue;
    Tensor values = Tensor::zeros(DType::F32, nf4->shape());
    nf4->dequantize(0, nf4->numel(), values.as_mutable<float>());
    plain->replace(i, values);
  }
  return plain;
}

struct Run {
  ForwardResult result;
  std::map<std::string, std::vector<float>> input_grads;
  std::vector<float> logits;
};

Run run(const std::shared_ptr<ModelWeights>& weights, const Batch& batch,
        const std::function<void(Transformer&)>& setup = {}) {
  Transformer model(weights);
  if (setup) setup(model);
  Run r;
  r.logits = model.forward(batch).logits;
  ForwardOptions train;
  train.activations = Activations::Keep;
  train.logits = LogitsMode::None;
  r.result = model.forward(batch, train);
  model.backward([&](const std::string& name, std::span<const float> g) { r.input_grads[name].assign(g.begin(), g.end()); });
  return r;
}

void check_nf4_equals_dequantized(const std::string& name) {
  SCOPED_TRACE(name);
  auto quantized = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden(name)));
  const int64_t bytes = quantized->quantize_linears_nf4();
  int64_t linear_params = 0;
  for (const auto& entry : quantized->entries()) {
    const bool block_linear = entry.spec.layer >= 0 && !entry.spec.linear_name.empty();
    EXPECT_EQ(entry.is_nf4(), block_linear) << entry.spec.hf_name;
    if (block_linear) {
      linear_params += shape_numel(entry.spec.shape);
      EXPECT_EQ(entry.tensor.data(), nullptr) << "the original storage is dropped: " << entry.spec.hf_name;
    }
  }
  EXPECT_EQ(quantized->nf4_parameters(), linear_params);
  EXPECT_EQ(quantized->nf4_bytes(), bytes);
  EXPECT_EQ(quantized->quantize_linears_nf4(), bytes) << "idempotent";
  std::printf("%-7s NF4 base: %lld parameters in %lld bytes = %.4f bytes per parameter\n", name.c_str(),
              static_cast<long long>(linear_params), static_cast<long long>(bytes),
              static_cast<double>(bytes) / static_cast<double>(linear_params));

  const auto plain = dequantized_copy(*quantized);
  const Batch batch = random_batch(quantized->config().vocab_size, 2, 6, 3);
  const Run q = run(quantized, batch), f = run(plain, batch);
  expect_close(q.logits, f.logits, name + " logits", 1e-5);
  EXPECT_NEAR(q.result.loss, f.result.loss, 1e-6 * f.result.loss);
  ASSERT_EQ(q.input_grads.size(), f.input_grads.size());
  for (const auto& [module, g] : f.input_grads) expect_close(q.input_grads.at(module), g, name + " " + module, 1e-5);
}

// y += s·(x·Aᵀ)·Bᵀ, A [r, in], B [out, r]: LoRA's arithmetic, written out plainly so the test does
// not depend on the peft module. Accumulates dA and dB.
class TestLora : public LinearAdapter {
 public:
  TestLora(int64_t in, int64_t out, int64_t rank, float scale, uint32_t seed)
      : a(static_cast<size_t>(rank * in)), b(static_cast<size_t>(out * rank)), da(a.size()), db(b.size()),
        in_(in), out_(out), rank_(rank), scale_(scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.3f);
    for (float& v : a) v = normal(rng);
    for (float& v : b) v = normal(rng);  // nonzero (PEFT starts at 0) so that dA is not 0
  }
  void forward(float* y, const float* x, int64_t n) override {
    for (int64_t t = 0; t < n; ++t) {
      const std::vector<float> h = project(x + t * in_);
      for (int64_t o = 0; o < out_; ++o)
        for (int64_t k = 0; k < rank_; ++k) y[t * out_ + o] += scale_ * b[o * rank_ + k] * h[k];
    }
  }
  void backward(float* dx, const float* dy, const float* x, int64_t n) override {
    for (int64_t t = 0; t < n; ++t) {
      const std::vector<float> h = project(x + t * in_);
      std::vector<float> dh(static_cast<size_t>(rank_), 0.0f);
      for (int64_t o = 0; o < out_; ++o)
        for (int64_t k = 0; k < rank_; ++k) {
          const float g = scale_ * dy[t * out_ + o];
          db[o * rank_ + k] += g * h[k];
          dh[k] += g * b[o * rank_ + k];
        }
      for (int64_t k = 0; k < rank_; ++k)
        for (int64_t i = 0; i < in_; ++i) {
          da[k * in_ + i] += dh[k] * x[t * in_ + i];
          dx[t * in_ + i] += dh[k] * a[k * in_ + i];
        }
    }
  }
  std::vector<float> a, b, da, db;

 private:
  std::vector<float> project(const float* x) const {
    std::vector<float> h(static_cast<size_t>(rank_), 0.0f);
    for (int64_t k = 0; k < rank_; ++k)
      for (int64_t i = 0; i < in_; ++i) h[k] += a[k * in_ + i] * x[i];
    return h;
  }
  int64_t in_, out_, rank_;
  float scale_;
};

}  // namespace

TEST(Nf4Base, LogitsLossAndInputGradientsEqualTheDequantizedModelLlama) { check_nf4_equals_dequantized("llama"); }
TEST(Nf4Base, LogitsLossAndInputGradientsEqualTheDequantizedModelQwen2) { check_nf4_equals_dequantized("qwen2"); }
TEST(Nf4Base, LogitsLossAndInputGradientsEqualTheDequantizedModelPhi3) { check_nf4_equals_dequantized("phi3"); }
TEST(Nf4Base, LogitsLossAndInputGradientsEqualTheDequantizedModelPhi2) { check_nf4_equals_dequantized("phi2"); }

TEST(Nf4Base, QuantizationIsCloseToTheOriginalWeights) {
  // An independent sanity bound: NF4's worst rounding step is about 0.16 of a block's absmax, so the
  // model's logits move, but by far less than their own scale.
  auto original = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("qwen2")));
  auto quantized = std::make_shared<ModelWeights>(*original);
  quantized->quantize_linears_nf4();
  const Batch batch = random_batch(96, 1, 8, 9);
  const auto a = Transformer(original).forward(batch).logits;
  const auto b = Transformer(quantized).forward(batch).logits;
  const auto d = slmtune::model_testing::deviation(b, a);
  std::printf("qwen2 NF4 vs original logits: max abs %.3g of scale %.3g\n", d.max_abs, d.scale);
  EXPECT_GT(d.max_abs, 0.0);
  EXPECT_LT(d.max_abs, 0.2 * d.scale);
}

TEST(Nf4Base, LoraGradientThroughNf4LayersMatchesFiniteDifferences) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("qwen2")));
  weights->quantize_linears_nf4();
  const ModelConfig& c = weights->config();
  // Layer 0's q_proj: its gradient comes back through every NF4 linear of layer 1 and layer 0's o_proj.
  auto lora = std::make_shared<TestLora>(c.hidden_size, c.q_size(), 4, 2.0f, 17);
  Transformer model(weights);
  model.set_adapter(0, "q_proj", lora);
  const Batch batch = random_batch(c.vocab_size, 2, 5, 21);
  ForwardOptions train;
  train.activations = Activations::Keep;
  train.logits = LogitsMode::None;
  model.forward(batch, train);
  model.backward();
  EXPECT_EQ(model.gradient_bytes(), 0) << "the NF4 base owns no gradient";

  ForwardOptions eval;
  eval.logits = LogitsMode::None;
  auto loss_at = [&](std::vector<float>& values, size_t i, float value) {
    const float saved = values[i];
    values[i] = value;
    const double loss = model.forward(batch, eval).loss;
    values[i] = saved;
    return loss;
  };
  // The largest analytic components of each gradient, against central differences (f32 model, so a
  // step of 1e-2 balances truncation against rounding).
  auto check = [&](std::vector<float>& values, const std::vector<float>& grads, const char* what) {
    std::vector<size_t> order(grads.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 6, order.end(),
                      [&](size_t x, size_t y) { return std::fabs(grads[x]) > std::fabs(grads[y]); });
    for (int k = 0; k < 6; ++k) {
      const size_t i = order[static_cast<size_t>(k)];
      const float h = 1e-2f;
      const double numeric = (loss_at(values, i, values[i] + h) - loss_at(values, i, values[i] - h)) / (2.0 * h);
      const double analytic = grads[i];
      EXPECT_NEAR(analytic, numeric, 2e-2 * std::fabs(numeric) + 2e-4) << what << "[" << i << "]";
      if (k == 0) std::printf("LoRA d%s through NF4: analytic %.6f, finite difference %.6f\n", what, analytic, numeric);
    }
  };
  check(lora->a, lora->da, "A");
  check(lora->b, lora->db, "B");
}
