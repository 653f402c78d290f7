// Whole-model forward and backward against PyTorch: tests/golden/make_goldens.py implements the
// Hugging Face modeling equations of each family with autograd and stores the logits, the loss and
// the gradients of every parameter and of every linear layer's input.
#include <gtest/gtest.h>

#include <map>

#include "core/error.hpp"
#include "formats/safetensors.hpp"
#include "model/transformer.hpp"
#include "model_test_util.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::model_testing::expect_close;

namespace {

struct Golden {
  std::shared_ptr<ModelWeights> weights;
  safetensors::File expected;
  Batch batch;

  explicit Golden(const std::string& name)
      : weights(std::make_shared<ModelWeights>(ModelWeights::load_hf(dir(name)))),
        expected(safetensors::File::open(dir(name) / "expected.safetensors")) {
    const Tensor ids = expected.tensor("input_ids");
    batch.batch_size = ids.dim(0);
    batch.seq_len = ids.dim(1);
    batch.input_ids.assign(ids.as<int32_t>(), ids.as<int32_t>() + ids.numel());
    const Tensor mask = expected.tensor("attention_mask");
    for (int64_t i = 0; i < mask.numel(); ++i) batch.attention_mask.push_back(mask.as<int32_t>()[i] != 0);
    const Tensor labels = expected.tensor("labels");
    batch.labels.assign(labels.as<int32_t>(), labels.as<int32_t>() + labels.numel());
  }
  static std::filesystem::path dir(const std::string& name) {
    return slmtune::testing::source_dir() / "tests" / "golden" / name;
  }
  std::vector<float> want(const std::string& name) const { return expected.tensor(name).to_f32_vector(); }
};

// Runs forward + backward and compares everything the golden holds; prints the worst errors.
void check_case(const std::string& name, Activations mode, bool train_all) {
  Golden golden(name);
  Transformer model(golden.weights);
  model.set_all_trainable(train_all);
  ForwardOptions options;
  options.activations = mode;
  const ForwardResult result = model.forward(golden.batch, options);
  const auto logits = expect_close(result.logits, golden.want("logits"), name + " logits");
  const float want_loss = golden.want("loss")[0];
  EXPECT_NEAR(result.loss, want_loss, 1e-5 * std::fabs(want_loss)) << name;

  std::map<std::string, std::vector<float>> input_grads;
  model.backward([&](const std::string& module, std::span<const float> g) {
    input_grads[module].assign(g.begin(), g.end());
  });
  double worst_input = 0.0, worst_param = 0.0;
  int compared_inputs = 0, compared_params = 0;
  for (const auto& entry : golden.expected.tensors()) {
    if (entry.name.rfind("grad_input.", 0) != 0) continue;
    const std::string module = entry.name.substr(11);
    ASSERT_TRUE(input_grads.count(module)) << name << ": no gradient observed for " << module;
    worst_input = std::max(worst_input, expect_close(input_grads[module], golden.want(entry.name), name + " " + module).max_rel);
    ++compared_inputs;
  }
  const ModelWeights& weights = *golden.weights;
  for (size_t i = 0; i < weights.size(); ++i) {
    const std::string& hf = weights[i].spec.hf_name;
    if (!train_all) {
      EXPECT_TRUE(model.gradient(i).empty()) << hf << " is frozen yet has a gradient buffer";
      continue;
    }
    worst_param =
        std::max(worst_param, expect_close(model.gradient(i), golden.want("grad." + hf), name + " grad " + hf).max_rel);
    ++compared_params;
  }
  EXPECT_EQ(compared_inputs, 9);
  if (!train_all) {
    EXPECT_EQ(model.gradient_bytes(), 0);
  }
  std::printf("%-14s %-9s logits max abs %.2e rel %.2e | loss %.6f vs %.6f | %d input grads max rel %.2e | %d "
              "param grads max rel %.2e\n",
              name.c_str(), mode == Activations::Keep ? "keep" : "recompute", logits.max_abs, logits.max_rel,
              result.loss, want_loss, compared_inputs, worst_input, compared_params, worst_param);
}

class GoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCase, ForwardAndBackwardMatchPyTorch) { check_case(GetParam(), Activations::Keep, true); }
TEST_P(GoldenCase, RecomputeGivesTheSameGradients) { check_case(GetParam(), Activations::Recompute, true); }
TEST_P(GoldenCase, FrozenBaseStillGivesLinearInputGradients) { check_case(GetParam(), Activations::Keep, false); }

TEST_P(GoldenCase, LastLogitsAreTheLastRealTokensRow) {
  Golden golden(GetParam());
  Transformer model(golden.weights);
  ForwardOptions options;
  options.logits = LogitsMode::Last;
  Batch batch = golden.batch;
  batch.labels.clear();
  const ForwardResult result = model.forward(batch, options);
  const auto all = golden.want("logits");
  const int64_t vocab = golden.weights->config().vocab_size, t_len = batch.seq_len;
  ASSERT_EQ(result.logits_rows, batch.batch_size);
  for (int64_t b = 0; b < batch.batch_size; ++b) {
    int64_t last = t_len - 1;
    while (!batch.attention_mask[b * t_len + last]) --last;
    const std::span<const float> want(all.data() + (b * t_len + last) * vocab, vocab);
    expect_close(std::span<const float>(result.logits.data() + b * vocab, vocab), want, "last row");
  }
}

INSTANTIATE_TEST_SUITE_P(Families, GoldenCase,
                         ::testing::Values("llama", "mistral", "qwen2", "phi3", "phi2", "phi2_partial", "llama3_rope",
                                           "phi3_longrope"));

}  // namespace
