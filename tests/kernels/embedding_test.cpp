#include "kernels/embedding.hpp"

#include "core/error.hpp"
#include "core/half.hpp"
#include "kernel_test_util.hpp"
#include "kernels/numerics.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

TEST(Embedding, ForwardCopiesRowsFromF32AndBf16Tables) {
  const int64_t vocab = 7, dim = 13;
  const auto table = to_float(random_doubles(vocab * dim, 1));
  std::vector<uint16_t> table_bf16(table.size());
  f32_to_bf16(table.data(), table_bf16.data(), table.size());
  const std::vector<int32_t> ids{6, 0, 3, 3};
  for_each_path([&](const std::string& path) {
    std::vector<float> out(ids.size() * dim), out_bf16(ids.size() * dim);
    embedding_forward(out.data(), WeightMatrix{table.data(), DType::F32, vocab, dim}, ids.data(), 4);
    embedding_forward(out_bf16.data(), WeightMatrix{table_bf16.data(), DType::BF16, vocab, dim}, ids.data(), 4);
    for (size_t i = 0; i < ids.size(); ++i)
      for (int64_t c = 0; c < dim; ++c) {
        ASSERT_EQ(out[i * dim + c], table[ids[i] * dim + c]) << path;
        ASSERT_EQ(out_bf16[i * dim + c], bf16_to_f32(table_bf16[ids[i] * dim + c])) << path;
      }
  });
}

TEST(Embedding, BackwardSumsRepeatedTokens) {
  // The gradient of Σ out·g with respect to row r is the sum of g over the positions holding r.
  const int64_t vocab = 5, dim = 70;
  const std::vector<int32_t> ids{2, 4, 2, 0, 2};
  const auto dout = to_float(random_doubles(ids.size() * dim, 2));
  std::vector<float> dtable(vocab * dim, 1.0f);
  embedding_backward(dtable.data(), dout.data(), ids.data(), 5, vocab, dim);
  for (int64_t c = 0; c < dim; ++c) {
    EXPECT_FLOAT_EQ(dtable[2 * dim + c], 1.0f + dout[0 * dim + c] + dout[2 * dim + c] + dout[4 * dim + c]);
    EXPECT_FLOAT_EQ(dtable[4 * dim + c], 1.0f + dout[1 * dim + c]);
    EXPECT_EQ(dtable[1 * dim + c], 1.0f);
  }
}

TEST(Embedding, RejectsIdsOutsideTheVocabulary) {
  const std::vector<float> table(10);
  std::vector<float> out(10);
  const std::vector<int32_t> ids{1, 5};
  try {
    embedding_forward(out.data(), WeightMatrix{table.data(), DType::F32, 5, 2}, ids.data(), 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 5 at position 1"), std::string::npos) << e.what();
  }
  const std::vector<int32_t> negative{-1};
  EXPECT_THROW(embedding_backward(out.data(), out.data(), negative.data(), 1, 5, 2), Error);
}

TEST(Numerics, FindsFirstNonFiniteValue) {
  for_each_path([&](const std::string& path) {
    std::vector<float> x(37, 1.5f);
    EXPECT_EQ(find_non_finite(x.data(), 37), -1) << path;
    x[35] = std::nanf("");
    EXPECT_EQ(find_non_finite(x.data(), 37), 35) << path << " (scalar tail)";
    x[12] = -INFINITY;
    EXPECT_EQ(find_non_finite(x.data(), 37), 12) << path;
    x[3] = INFINITY;
    EXPECT_EQ(find_non_finite(x.data(), 37), 3) << path;
    x[3] = 3.4e38f;  // the largest floats are still finite
    EXPECT_EQ(find_non_finite(x.data(), 37), 12) << path;
  });
}

}  // namespace
}  // namespace slmtune::kernels
