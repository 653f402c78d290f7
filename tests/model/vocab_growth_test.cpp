// Growing the vocabulary: old rows stay bit-identical, new rows are the old rows' mean (HF's
// mean_resizing), the old tokens' logits are unchanged and each new logit is the mean of the old
// logits (lm_head is linear, so a mean row scores the mean) — checked on the golden tiny models.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/error.hpp"
#include "model/transformer.hpp"
#include "model/vocab_growth.hpp"
#include "model_test_util.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::model_testing::golden;
using slmtune::model_testing::random_batch;

namespace {

void check_growth(const std::string& name) {
  SCOPED_TRACE(name);
  auto base = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden(name)));
  const int64_t vocab = base->config().vocab_size, rows = 3;
  auto grown = std::make_shared<ModelWeights>(grow_vocabulary(*base, rows));
  EXPECT_EQ(grown->config().vocab_size, vocab + rows);
  const DType dtype = (*base)[static_cast<size_t>(base->index("model.embed_tokens.weight"))].tensor.dtype();
  const uint64_t stored = dtype_size(dtype);
  const int bias = base->index("lm_head.bias");
  const uint64_t bias_bytes = bias >= 0 ? dtype_size((*base)[static_cast<size_t>(bias)].tensor.dtype()) : 0;
  EXPECT_EQ(vocabulary_growth_bytes(*base, rows),
            static_cast<uint64_t>(rows) * static_cast<uint64_t>(base->config().hidden_size) * stored *
                    (base->config().tie_word_embeddings ? 1u : 2u) +
                (base->index("lm_head.bias") >= 0 ? static_cast<uint64_t>(rows) * bias_bytes : 0u));
  // The new rows are the f64 mean rounded once to the stored dtype: within half its ulp.
  const double rounding = stored == 4 ? 1e-6 : dtype == DType::BF16 ? 1.0 / 256 : 1.0 / 2048;

  for (const char* tensor : {"model.embed_tokens.weight", "lm_head.weight", "lm_head.bias"}) {
    const int i = base->index(tensor);
    if (i < 0) continue;
    const auto old_values = (*base)[static_cast<size_t>(i)].tensor.to_f32_vector();
    const auto new_values = (*grown)[static_cast<size_t>(grown->index(tensor))].tensor.to_f32_vector();
    ASSERT_EQ(new_values.size(), old_values.size() / static_cast<size_t>(vocab) * static_cast<size_t>(vocab + rows));
    EXPECT_EQ(0, std::memcmp(old_values.data(), new_values.data(), old_values.size() * sizeof(float))) << tensor;
    const size_t width = old_values.size() / static_cast<size_t>(vocab);
    for (size_t c = 0; c < width; ++c) {
      double mean = 0;
      for (int64_t r = 0; r < vocab; ++r) mean += old_values[static_cast<size_t>(r) * width + c];
      mean /= static_cast<double>(vocab);
      for (int64_t r = vocab; r < vocab + rows; ++r)
        EXPECT_NEAR(new_values[static_cast<size_t>(r) * width + c], mean, 1e-7 + rounding * std::fabs(mean)) << tensor << " col " << c;
    }
  }

  Batch batch = random_batch(vocab, 2, 7, 11);
  batch.labels.clear();  // logits only
  const std::vector<float> before = Transformer(base).forward(batch).logits;
  const std::vector<float> after = Transformer(grown).forward(batch).logits;
  ASSERT_EQ(after.size() / static_cast<size_t>(vocab + rows), before.size() / static_cast<size_t>(vocab));
  const size_t positions = before.size() / static_cast<size_t>(vocab);
  std::vector<float> old_part, new_part, mean_of_old;
  for (size_t p = 0; p < positions; ++p) {
    double mean = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      old_part.push_back(after[p * static_cast<size_t>(vocab + rows) + static_cast<size_t>(v)]);
      mean += before[p * static_cast<size_t>(vocab) + static_cast<size_t>(v)];
    }
    for (int64_t v = vocab; v < vocab + rows; ++v) {
      new_part.push_back(after[p * static_cast<size_t>(vocab + rows) + static_cast<size_t>(v)]);
      mean_of_old.push_back(static_cast<float>(mean / static_cast<double>(vocab)));
    }
  }
  model_testing::expect_close(old_part, before, name + " old logits", 1e-6);
  model_testing::expect_close(new_part, mean_of_old, name + " new logits = mean of old logits", stored == 4 ? 1e-5 : 2e-2);
}

}  // namespace

TEST(VocabGrowth, LlamaOldLogitsUnchangedNewRowsAreTheMean) { check_growth("llama"); }
TEST(VocabGrowth, Phi2WithLmHeadBias) { check_growth("phi2"); }
TEST(VocabGrowth, Qwen2) { check_growth("qwen2"); }

TEST(VocabGrowth, ZeroRowsIsTheSameModelAndNegativeIsRefused) {
  const ModelWeights base = ModelWeights::load_hf(golden("llama"));
  EXPECT_EQ(grow_vocabulary(base, 0).config().vocab_size, base.config().vocab_size);
  EXPECT_THROW(grow_vocabulary(base, -1), Error);
}
