// The GGUF models of the shared test data: they load, give finite logits, and agree with a
// safetensors copy of the same weights. llama.cpp's llama-arch files store Q/K rows permuted for its
// adjacent-pair RoPE; the check below rotates the raw GGUF rows the way llama.cpp does (pairs 2i,
// 2i+1) and our un-permuted rows the way Hugging Face does (pairs i, i + d/2), and requires the same
// rotated vectors up to that row order — the property that makes attention scores identical.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "formats/gguf.hpp"
#include "formats/safetensors.hpp"
#include "kernels/rope.hpp"
#include "model/transformer.hpp"
#include "model/transformer_rope.hpp"
#include "support/test_support.hpp"

using namespace slmtune;

namespace {

const char* const kModels[] = {"models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf",
                               "models/tiny-random-gguf/tiny-random-qwen2.gguf",
                               "models/tiny-random-gguf/tiny-random-phi3.gguf"};

Batch sample_batch(int64_t vocab) {
  Batch batch;
  batch.batch_size = 2;
  batch.seq_len = 6;
  for (int64_t i = 0; i < 12; ++i) batch.input_ids.push_back(static_cast<int32_t>((i * 7919 + 13) % vocab));
  batch.attention_mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  return batch;
}

std::vector<float> logits_of(std::shared_ptr<ModelWeights> weights) {
  Transformer model(std::move(weights));
  ForwardOptions options;
  options.check_numerics = true;
  return model.forward(sample_batch(model.config().vocab_size), options).logits;
}

class GgufModel : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufModel, LoadsAndGivesFiniteLogits) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load(slmtune::testing::testdata(GetParam())));
  const auto logits = logits_of(weights);
  ASSERT_EQ(static_cast<int64_t>(logits.size()), 12 * weights->config().vocab_size);
  double spread = 0.0;
  for (float v : logits) {
    ASSERT_TRUE(std::isfinite(v));
    spread = std::max(spread, std::fabs(static_cast<double>(v) - logits[0]));
  }
  EXPECT_GT(spread, 0.0) << "logits are all equal";
}

TEST_P(GgufModel, SafetensorsCopyGivesTheSameLogits) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load(slmtune::testing::testdata(GetParam())));
  slmtune::testing::TempDir dir;
  slmtune::testing::write_text(dir / "config.json", model_config_to_json(weights->config()).dump(2));
  safetensors::Writer writer;
  for (const auto& entry : weights->entries()) writer.add(entry.spec.hf_name, entry.tensor);
  writer.write(dir / "model.safetensors");
  auto copy = std::make_shared<ModelWeights>(ModelWeights::load(dir.path()));
  const auto a = logits_of(weights), b = logits_of(copy);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "logit " << i;
}

INSTANTIATE_TEST_SUITE_P(SharedTestdata, GgufModel, ::testing::ValuesIn(kModels));

// One head-major projection rotated in llama.cpp's adjacent-pair layout.
std::vector<float> rotate_adjacent_pairs(std::vector<float> q, int64_t heads, int64_t head_dim, int32_t position,
                                         double theta) {
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      const double angle = position * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      float& a = q[h * head_dim + 2 * i];
      float& b = q[h * head_dim + 2 * i + 1];
      const float x0 = a, x1 = b;
      a = static_cast<float>(x0 * std::cos(angle) - x1 * std::sin(angle));
      b = static_cast<float>(x0 * std::sin(angle) + x1 * std::cos(angle));
    }
  return q;
}

std::vector<float> project(const Tensor& weight, const std::vector<float>& x) {
  const auto w = weight.to_f32_vector();
  const int64_t rows = weight.dim(0), cols = weight.dim(1);
  std::vector<float> y(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += static_cast<double>(w[r * cols + c]) * x[c];
    y[r] = static_cast<float>(sum);
  }
  return y;
}

TEST(GgufLlamaRope, UnpermutedRowsWithRotateHalfEqualRawRowsWithAdjacentPairs) {
  const auto path = slmtune::testing::testdata(kModels[0]);
  const auto file = gguf::File::open(path);
  const ModelWeights weights = ModelWeights::load(path);
  const ModelConfig& c = weights.config();
  const auto rope = kernels::rope_table(kernels::rope_frequencies(rope_config_of(c), 8), 8);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(c.hidden_size));
  for (float& v : x) v = normal(rng);
  for (const auto& [gguf_name, hf_name, heads] :
       {std::tuple{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", c.num_heads},
        std::tuple{"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight", c.num_kv_heads}}) {
    const int32_t position = 5;
    const auto raw = rotate_adjacent_pairs(project(file.tensor(gguf_name), x), heads, c.head_dim, position,
                                           c.rope_theta);
    auto hf = project(weights[static_cast<size_t>(weights.index(hf_name))].tensor, x);
    kernels::rope_forward(hf.data(), hf.data(), &position, 1, heads, c.head_dim, rope);
    const int64_t half = c.head_dim / 2;
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half; ++i)
        for (int64_t j = 0; j < 2; ++j)
          EXPECT_NEAR(raw[h * c.head_dim + 2 * i + j], hf[h * c.head_dim + j * half + i], 1e-4)
              << gguf_name << " head " << h << " pair " << i;
  }
  // The round trip back to GGUF order restores the stored rows exactly.
  const Tensor back = permute_rope_rows(weights[static_cast<size_t>(weights.index("model.layers.0.self_attn.q_proj.weight"))].tensor,
                                        c.num_heads);
  const Tensor stored = file.tensor("blk.0.attn_q.weight");
  ASSERT_EQ(back.nbytes(), stored.nbytes());
  EXPECT_EQ(0, std::memcmp(back.data(), stored.data(), stored.nbytes()));
}

TEST(GgufRotateHalfFiles, QwenAndPhi3RowsAreUsedAsStored) {
  const auto path = slmtune::testing::testdata(kModels[1]);
  const auto file = gguf::File::open(path);
  const ModelWeights weights = ModelWeights::load(path);
  const Tensor& q = weights[static_cast<size_t>(weights.index("model.layers.0.self_attn.q_proj.weight"))].tensor;
  const Tensor stored = file.tensor("blk.0.attn_q.weight");
  ASSERT_EQ(q.nbytes(), stored.nbytes());
  EXPECT_EQ(0, std::memcmp(q.data(), stored.data(), stored.nbytes()));
}

}  // namespace
