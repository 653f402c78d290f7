#include "kernels/cross_entropy.hpp"

#include "core/error.hpp"
#include "core/half.hpp"
#include "kernel_test_util.hpp"
#include "kernels/cross_entropy_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(CrossEntropy, ReferenceBackwardMatchesFiniteDifferences) {
  const int64_t rows = 4, dim = 3, vocab = 6;
  std::vector<double> hidden = random_doubles(rows * dim, 1, -2, 2), weight = random_doubles(vocab * dim, 2),
                      bias = random_doubles(vocab, 3);
  const std::vector<int32_t> targets{2, -100, 5, 0};
  auto loss = [&] {
    return reference::cross_entropy(hidden.data(), weight.data(), bias.data(), targets.data(), rows, dim, vocab,
                                    static_cast<double*>(nullptr), static_cast<double*>(nullptr),
                                    static_cast<double*>(nullptr), -100, 1.0);
  };
  std::vector<double> dh(hidden.size(), 0.0), dw(weight.size(), 0.0), db(vocab, 0.0);
  reference::cross_entropy(hidden.data(), weight.data(), bias.data(), targets.data(), rows, dim, vocab, dh.data(),
                           dw.data(), db.data(), -100, 1.0);
  expect_gradient(hidden, loss, dh, "dhidden");
  expect_gradient(weight, loss, dw, "dweight");
  expect_gradient(bias, loss, db, "dbias");
  for (int64_t c = 0; c < dim; ++c) EXPECT_EQ(dh[1 * dim + c], 0.0) << "ignored row gets no gradient";
}

TEST(CrossEntropy, ReferenceMatchesLogSoftmaxByHand) {
  // One row, identity-like weights so logits = [1, 2, 3]; loss = log(e + e² + e³) − 2.
  const std::vector<double> hidden{1, 2, 3}, weight{1, 0, 0, 0, 1, 0, 0, 0, 1};
  const std::vector<int32_t> target{1};
  const double loss = reference::cross_entropy(hidden.data(), weight.data(), static_cast<double*>(nullptr),
                                               target.data(), 1, 3, 3, static_cast<double*>(nullptr),
                                               static_cast<double*>(nullptr), static_cast<double*>(nullptr), -100, 1.0);
  EXPECT_NEAR(loss, std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 2.0, 1e-12);
}

// The blocked kernel against the reference that holds every logit, with blocks forced small.
void check_chunked(DType dtype, int64_t max_logits, const std::string& name) {
  const int64_t rows = 23, dim = 40, vocab = 301;
  const auto hidden = f32_exact(random_doubles(rows * dim, 4, -2, 2)), bias = f32_exact(random_doubles(vocab, 5));
  const auto weight_source = random_doubles(vocab * dim, 6);
  std::vector<uint16_t> weight_half(weight_source.size());
  std::vector<double> weight(weight_source.size());
  for (size_t i = 0; i < weight.size(); ++i) {
    const float value = static_cast<float>(weight_source[i]);
    if (dtype == DType::BF16) weight_half[i] = f32_to_bf16(value);
    weight[i] = dtype == DType::BF16 ? bf16_to_f32(weight_half[i]) : value;
  }
  std::vector<int32_t> targets(rows);
  for (int64_t r = 0; r < rows; ++r) targets[r] = r % 4 == 1 ? -100 : static_cast<int32_t>((r * 37) % vocab);
  const double grad_scale = 0.5;
  std::vector<double> dh(hidden.size(), 0.0), dw(weight.size(), 0.0), db(vocab, 0.0);
  const double loss = reference::cross_entropy(hidden.data(), weight.data(), bias.data(), targets.data(), rows, dim,
                                               vocab, dh.data(), dw.data(), db.data(), -100, grad_scale);
  for_each_path([&](const std::string& path) {
    const auto hf = to_float(hidden), bf = to_float(bias), wf = to_float(weight);
    const WeightMatrix output = dtype == DType::BF16 ? WeightMatrix{weight_half.data(), DType::BF16, vocab, dim}
                                                     : WeightMatrix{wf.data(), DType::F32, vocab, dim};
    std::vector<float> dhf(hidden.size(), 0.0f), dwf(weight.size(), 0.0f), dbf(vocab, 0.0f);
    CrossEntropyOptions options;
    options.grad_scale = static_cast<float>(grad_scale);
    options.max_logits = max_logits;
    const CrossEntropyResult result = cross_entropy(hf.data(), output, bf.data(), targets.data(), rows, dhf.data(),
                                                    dwf.data(), dbf.data(), options);
    const std::string label = name + " " + path;
    EXPECT_EQ(result.count, 17) << label;
    EXPECT_NEAR(result.loss, loss, 1e-5 * loss) << label;
    expect_close(dhf, dh, 1e-6, 1e-4, label + " dhidden");
    expect_close(dwf, dw, 1e-6, 1e-4, label + " doutput");
    expect_close(dbf, db, 1e-6, 1e-4, label + " dbias");
    const CrossEntropyResult loss_only =
        cross_entropy(hf.data(), output, bf.data(), targets.data(), rows, nullptr, nullptr, nullptr, options);
    EXPECT_NEAR(loss_only.loss, result.loss, 1e-9) << label;
  });
}

TEST(CrossEntropy, ChunkedMatchesNaiveF32) {
  check_chunked(DType::F32, 1000, "3 rows per block");
  check_chunked(DType::F32, 1, "1 row per block");
  check_chunked(DType::F32, 1 << 20, "one block");
}

TEST(CrossEntropy, ChunkedMatchesNaiveBf16Weights) { check_chunked(DType::BF16, 2000, "bf16"); }

TEST(CrossEntropy, AllIgnoredAndBadTargets) {
  const std::vector<float> hidden(6, 1.0f), weight(12, 0.5f);
  const WeightMatrix output{weight.data(), DType::F32, 4, 3};
  std::vector<float> dh(6, 0.0f);
  const std::vector<int32_t> ignored{-100, -100};
  const CrossEntropyResult none = cross_entropy(hidden.data(), output, nullptr, ignored.data(), 2, dh.data(), nullptr,
                                                nullptr);
  EXPECT_EQ(none.count, 0);
  EXPECT_EQ(none.loss, 0.0);
  // Uniform logits: loss = ln 4 exactly as the definition gives.
  const std::vector<int32_t> uniform{3, 0};
  EXPECT_NEAR(cross_entropy(hidden.data(), output, nullptr, uniform.data(), 2, nullptr, nullptr, nullptr).loss,
              std::log(4.0), 1e-6);
  const std::vector<int32_t> bad{0, 4};
  EXPECT_THROW(cross_entropy(hidden.data(), output, nullptr, bad.data(), 2, nullptr, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace slmtune::kernels
