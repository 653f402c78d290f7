// Packed rows (Batch::segment_ids): each sample of a packed row computes what it computes alone —
// logits, per-token loss, the count of targets (none crosses into the next sample) and gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "model/transformer.hpp"
#include "model_test_util.hpp"
#include "support/test_support.hpp"

using namespace slmtune;
using slmtune::model_testing::expect_close;

namespace {

std::filesystem::path golden(const std::string& name) { return slmtune::testing::source_dir() / "tests/golden" / name; }

struct Sequence {
  std::vector<int32_t> ids, labels;
};

std::vector<Sequence> sequences(int64_t vocab) {
  std::mt19937 rng(5);
  std::vector<Sequence> out;
  // (length, prompt tokens without loss). Sample 1 has a label on its first token: exactly the target
  // sample 0's last position would wrongly predict in a packed row.
  for (auto [length, prompt] : {std::pair<int64_t, int64_t>{5, 2}, {7, 0}, {4, 1}}) {
    Sequence s;
    for (int64_t t = 0; t < length; ++t) {
      s.ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab)));
      s.labels.push_back(t < prompt ? -100 : s.ids.back());
    }
    out.push_back(std::move(s));
  }
  return out;
}

// −log softmax(logits)[target] per position t with target labels[t + 1] (within one sample).
std::vector<double> token_losses(std::span<const float> logits, const std::vector<int32_t>& labels, int64_t vocab) {
  std::vector<double> out;
  for (size_t t = 0; t + 1 < labels.size(); ++t) {
    if (labels[t + 1] < 0) continue;
    const float* row = logits.data() + t * static_cast<size_t>(vocab);
    double top = row[0], sum = 0.0;
    for (int64_t v = 0; v < vocab; ++v) top = std::max(top, double(row[v]));
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - top);
    out.push_back(top + std::log(sum) - row[labels[t + 1]]);
  }
  return out;
}

}  // namespace

TEST(Packing, EachSampleOfAPackedRowComputesWhatItComputesAlone) {
  auto weights = std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("qwen2")));
  const int64_t vocab = weights->config().vocab_size;
  const auto samples = sequences(vocab);
  const std::string trained = "model.layers.0.self_attn.q_proj.weight";
  const size_t trained_index = static_cast<size_t>(weights->index(trained));

  // Row 0: samples 0 and 1 (12 tokens); row 1: sample 2 and 8 padding tokens. No position ids: the
  // model must restart them per segment.
  Batch packed;
  packed.batch_size = 2;
  packed.seq_len = 12;
  packed.input_ids.assign(24, 0);
  packed.labels.assign(24, -100);
  packed.attention_mask.assign(24, 0);
  packed.segment_ids.assign(24, -1);
  const std::pair<size_t, size_t> placement[] = {{0, 0}, {0, 5}, {1, 0}};  // (row, start)
  for (size_t i = 0; i < samples.size(); ++i) {
    const size_t at = placement[i].first * 12 + placement[i].second;
    for (size_t t = 0; t < samples[i].ids.size(); ++t) {
      packed.input_ids[at + t] = samples[i].ids[t];
      packed.labels[at + t] = samples[i].labels[t];
      packed.attention_mask[at + t] = 1;
      packed.segment_ids[at + t] = placement[i].first == 0 && i == 1 ? 1 : 0;
    }
  }

  ForwardOptions train;
  train.activations = Activations::Keep;
  train.logits = LogitsMode::All;
  Transformer model(weights);
  model.set_trainable(trained, true);
  const ForwardResult together = model.forward(packed, train);
  model.backward();
  const std::vector<float> packed_grad(model.gradient(trained_index).begin(), model.gradient(trained_index).end());

  int64_t tokens = 0;
  double loss_sum = 0.0;
  std::vector<double> grad_sum(packed_grad.size(), 0.0);
  for (size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE("sample " + std::to_string(i));
    Batch alone;
    alone.seq_len = static_cast<int64_t>(samples[i].ids.size());
    alone.input_ids = samples[i].ids;
    alone.labels = samples[i].labels;
    model.zero_gradients();
    const ForwardResult r = model.forward(alone, train);
    model.backward();
    const size_t at = (placement[i].first * 12 + placement[i].second) * static_cast<size_t>(vocab);
    const std::span<const float> slice(together.logits.data() + at, r.logits.size());
    expect_close(slice, r.logits, "logits", 1e-5);
    const auto want = token_losses(r.logits, samples[i].labels, vocab);
    const auto got = token_losses(slice, samples[i].labels, vocab);
    ASSERT_EQ(got.size(), want.size());
    for (size_t t = 0; t < got.size(); ++t) EXPECT_NEAR(got[t], want[t], 1e-5 * std::max(1.0, want[t])) << t;
    tokens += r.loss_tokens;
    loss_sum += r.loss * static_cast<double>(r.loss_tokens);
    const auto g = model.gradient(trained_index);
    for (size_t j = 0; j < g.size(); ++j) grad_sum[j] += double(g[j]) * static_cast<double>(r.loss_tokens);
  }
  // Sample 0's last token would predict sample 1's first: that target must not count.
  EXPECT_EQ(together.loss_tokens, tokens);
  EXPECT_NEAR(together.loss * static_cast<double>(together.loss_tokens), loss_sum, 1e-5 * loss_sum);
  std::vector<float> want_grad(grad_sum.size());
  for (size_t j = 0; j < grad_sum.size(); ++j) want_grad[j] = static_cast<float>(grad_sum[j] / static_cast<double>(tokens));
  expect_close(packed_grad, want_grad, "q_proj gradient of the packed batch vs the samples' token-weighted sum", 1e-4);
}

TEST(Packing, SegmentIdsOfTheWrongSizeAreRefused) {
  Transformer model(std::make_shared<ModelWeights>(ModelWeights::load_hf(golden("llama"))));
  Batch batch;
  batch.seq_len = 3;
  batch.input_ids = {1, 2, 3};
  batch.segment_ids = {0, 1};
  try {
    model.forward(batch);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("segment_ids has 2 entries, expected 3"), std::string::npos) << e.what();
  }
}
