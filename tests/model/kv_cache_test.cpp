// Decoding with a KV cache gives the logits a full forward over the whole sequence gives: a prompt
// fed at once, then single tokens, then a chunk, for every family of the goldens and the GGUF models.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/kv_cache.hpp"
#include "model/transformer.hpp"
#include "model_test_util.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::model_testing::expect_close;

namespace {

void check_cached_equals_full(const std::filesystem::path& path) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load(path));
  Transformer model(weights);
  const int64_t vocab = model.config().vocab_size, length = 12;
  std::vector<int32_t> tokens;
  for (int64_t i = 0; i < length; ++i) tokens.push_back(static_cast<int32_t>((i * 37 + 5) % vocab));
  Batch batch;
  batch.seq_len = length;
  batch.input_ids = tokens;
  const auto full = model.forward(batch).logits;
  auto row = [&](int64_t t) { return std::span<const float>(full.data() + t * vocab, vocab); };

  KvCache cache(model.config(), 16);
  // Prompt of 5 tokens (longer than phi3_longrope's original context of 4, so every step uses the
  // long factors as the full forward does).
  const auto prompt = model.forward_cached(std::span(tokens).subspan(0, 5), cache, LogitsMode::All);
  for (int64_t t = 0; t < 5; ++t)
    expect_close(std::span<const float>(prompt.data() + t * vocab, vocab), row(t), path.filename().string() + " prompt");
  for (int64_t t = 5; t < 9; ++t)
    expect_close(model.forward_cached(std::span(tokens).subspan(t, 1), cache), row(t), path.filename().string() + " step");
  const auto chunk = model.forward_cached(std::span(tokens).subspan(9, 3), cache, LogitsMode::All);
  for (int64_t t = 9; t < 12; ++t)
    expect_close(std::span<const float>(chunk.data() + (t - 9) * vocab, vocab), row(t), path.filename().string() + " chunk");
  EXPECT_EQ(cache.length(), 12);
  // Rewinding to the prompt and decoding again reproduces the same logits.
  cache.truncate(5);
  expect_close(model.forward_cached(std::span(tokens).subspan(5, 1), cache), row(5), "after truncate");
}

class CachedGolden : public ::testing::TestWithParam<std::string> {};
TEST_P(CachedGolden, CachedDecodingEqualsFullForward) {
  check_cached_equals_full(slmtune::testing::source_dir() / "tests/golden" / GetParam());
}
INSTANTIATE_TEST_SUITE_P(Families, CachedGolden,
                         ::testing::Values("llama", "mistral", "qwen2", "phi3", "phi2", "phi2_partial", "llama3_rope",
                                           "phi3_longrope"));

TEST(CachedGguf, CachedDecodingEqualsFullForward) {
  for (const char* file : {"models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf",
                           "models/tiny-random-gguf/tiny-random-qwen2.gguf",
                           "models/tiny-random-gguf/tiny-random-phi3.gguf"})
    check_cached_equals_full(slmtune::testing::testdata(file));
}

TEST(KvCacheLimits, OverflowIsOneClearError) {
  auto weights = std::make_shared<ModelWeights>(
      ModelWeights::load(slmtune::testing::source_dir() / "tests/golden/llama"));
  Transformer model(weights);
  KvCache cache(model.config(), 4);
  const std::vector<int32_t> tokens = {1, 2, 3};
  model.forward_cached(tokens, cache);
  try {
    model.forward_cached(tokens, cache);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "transformer: 3 tokens after 3 cached exceed the cache's capacity of 4 (the context is 64)");
  }
  EXPECT_THROW(KvCache(model.config(), 65), Error);
}

}  // namespace
