#include "kernels/attention.hpp"

#include "core/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/attention_reference.hpp"

namespace slmtune::kernels {
namespace {

using namespace testing;

size_t q_size(const AttentionShape& s) { return static_cast<size_t>(s.batch * s.q_len * s.q_heads * s.head_dim); }
size_t kv_size(const AttentionShape& s) {
  return static_cast<size_t>(s.batch * (s.kv_capacity ? s.kv_capacity : s.kv_len) * s.kv_heads * s.head_dim);
}

// Right padding in sequence 0 (training batches), left padding in sequence 1 (generation batches).
std::vector<uint8_t> padding_mask(const AttentionShape& s, int64_t right_pad, int64_t left_pad) {
  const int64_t capacity = s.kv_capacity ? s.kv_capacity : s.kv_len;
  std::vector<uint8_t> mask(static_cast<size_t>(s.batch * capacity), 1);
  for (int64_t j = s.kv_len - right_pad; j < s.kv_len; ++j) mask[j] = 0;
  if (s.batch > 1)
    for (int64_t j = 0; j < left_pad; ++j) mask[capacity + j] = 0;
  return mask;
}

TEST(Attention, ReferenceBackwardMatchesFiniteDifferences) {
  const AttentionShape s{.batch = 2, .q_len = 4, .kv_len = 5, .q_heads = 4, .kv_heads = 2, .head_dim = 3};
  const auto mask = padding_mask(s, 1, 2);
  const double scale = 0.7;
  std::vector<double> q = random_doubles(q_size(s), 1), k = random_doubles(kv_size(s), 2),
                      v = random_doubles(kv_size(s), 3);
  const auto probe = random_doubles(q_size(s), 4);
  auto loss = [&] {
    std::vector<double> out(q_size(s));
    reference::attention_forward(out.data(), static_cast<double*>(nullptr), q.data(), k.data(), v.data(), mask.data(),
                                 s, scale);
    return weighted_sum(out, probe);
  };
  std::vector<double> dq(q.size(), 0.0), dk(k.size(), 0.0), dv(v.size(), 0.0);
  reference::attention_backward(dq.data(), dk.data(), dv.data(), probe.data(), q.data(), k.data(), v.data(),
                                mask.data(), s, scale);
  expect_gradient(q, loss, dq, "dq");
  expect_gradient(k, loss, dk, "dk");
  expect_gradient(v, loss, dv, "dv");
}

TEST(Attention, ReferenceMatchesHandComputedSoftmax) {
  // One head, two keys, query 1 sees both: weights softmax([q·k0, q·k1]·scale).
  const AttentionShape s{.batch = 1, .q_len = 2, .kv_len = 2, .q_heads = 1, .kv_heads = 1, .head_dim = 2};
  const std::vector<double> q{1, 0, 0.5, 2}, k{1, 1, -1, 0.5}, v{1, 2, 3, -4};
  std::vector<double> out(4);
  reference::attention_forward(out.data(), static_cast<double*>(nullptr), q.data(), k.data(), v.data(), nullptr, s, 1.0);
  const double s0 = 0.5 + 2, s1 = -0.5 + 1, w0 = std::exp(s0) / (std::exp(s0) + std::exp(s1));
  EXPECT_DOUBLE_EQ(out[0], 1);  // query 0 sees only key 0
  EXPECT_DOUBLE_EQ(out[1], 2);
  EXPECT_NEAR(out[2], w0 * 1 + (1 - w0) * 3, 1e-12);
  EXPECT_NEAR(out[3], w0 * 2 + (1 - w0) * -4, 1e-12);
}

// The tiled kernel against the whole-matrix reference, forward (out, lse) and backward.
void check_tiled(const AttentionShape& s, const std::vector<uint8_t>& mask, uint32_t seed, const std::string& name,
                 const std::vector<int32_t>& segments = {}) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  const auto q = f32_exact(random_doubles(q_size(s), seed, -2, 2));
  const auto k = f32_exact(random_doubles(kv_size(s), seed + 1, -2, 2));
  const auto v = f32_exact(random_doubles(kv_size(s), seed + 2));
  const auto dout = f32_exact(random_doubles(q_size(s), seed + 3));
  const uint8_t* m = mask.empty() ? nullptr : mask.data();
  const int32_t* seg = segments.empty() ? nullptr : segments.data();
  std::vector<double> out(q.size()), lse(static_cast<size_t>(s.batch * s.q_heads * s.q_len));
  std::vector<double> dq(q.size(), 0.0), dk(k.size(), 0.0), dv(v.size(), 0.0);
  reference::attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), m, s, double(scale), seg);
  reference::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(), m, s,
                                double(scale), seg);
  for_each_path([&](const std::string& path) {
    const auto qf = to_float(q), kf = to_float(k), vf = to_float(v), doutf = to_float(dout);
    std::vector<float> outf(q.size()), lsef(lse.size());
    std::vector<float> dqf(q.size(), 0.0f), dkf(k.size(), 0.0f), dvf(v.size(), 0.0f);
    if (seg) {
      attention_forward(outf.data(), lsef.data(), qf.data(), kf.data(), vf.data(), m, seg, s, scale);
      attention_backward(dqf.data(), dkf.data(), dvf.data(), doutf.data(), qf.data(), kf.data(), vf.data(),
                         outf.data(), lsef.data(), m, seg, s, scale);
    } else {
      attention_forward(outf.data(), lsef.data(), qf.data(), kf.data(), vf.data(), m, s, scale);
      attention_backward(dqf.data(), dkf.data(), dvf.data(), doutf.data(), qf.data(), kf.data(), vf.data(),
                         outf.data(), lsef.data(), m, s, scale);
    }
    const std::string label = name + " " + path;
    expect_close(outf, out, 2e-6, 1e-5, label + " out");
    // Rows with no visible key have lse = −inf in both.
    for (size_t i = 0; i < lse.size(); ++i)
      if (std::isinf(lse[i])) EXPECT_TRUE(std::isinf(lsef[i]) && lsef[i] < 0) << label << " lse " << i;
      else EXPECT_NEAR(lsef[i], lse[i], 1e-5 * std::max(1.0, std::abs(lse[i]))) << label << " lse " << i;
    expect_close(dqf, dq, 1e-5, 1e-4, label + " dq");
    expect_close(dkf, dk, 1e-5, 1e-4, label + " dk");
    expect_close(dvf, dv, 1e-5, 1e-4, label + " dv");
  });
}

TEST(Attention, TiledMatchesNaiveWithGroupedHeadsAndPadding) {
  // T = 150: two full 64-tiles and a partial one; 6 query heads over 2 kv heads.
  const AttentionShape s{.batch = 2, .q_len = 150, .kv_len = 150, .q_heads = 6, .kv_heads = 2, .head_dim = 16};
  check_tiled(s, padding_mask(s, 23, 70), 10, "padded");
  check_tiled(s, {}, 20, "unmasked");
}

// Packed rows: segment boundaries inside and across 64-tiles, then right padding.
std::vector<int32_t> packed_segments(const AttentionShape& s, const std::vector<std::vector<int64_t>>& lengths) {
  std::vector<int32_t> segments(static_cast<size_t>(s.batch * s.kv_len), -1);
  for (int64_t b = 0; b < s.batch; ++b) {
    int64_t t = 0;
    int32_t id = 0;
    for (int64_t length : lengths[static_cast<size_t>(b)]) {
      for (int64_t i = 0; i < length; ++i) segments[static_cast<size_t>(b * s.kv_len + t++)] = id;
      ++id;
    }
  }
  return segments;
}

TEST(Attention, TiledMatchesNaiveWithPackedSegments) {
  const AttentionShape s{.batch = 2, .q_len = 150, .kv_len = 150, .q_heads = 6, .kv_heads = 2, .head_dim = 16};
  const auto segments = packed_segments(s, {{40, 70, 17, 23}, {1, 90, 36}});  // row 1: 23 padding tokens
  check_tiled(s, padding_mask(s, 0, 0), 70, "packed", segments);
  std::vector<uint8_t> mask(static_cast<size_t>(s.batch * s.kv_len), 1);
  for (int64_t j = 127; j < 150; ++j) mask[static_cast<size_t>(s.kv_len + j)] = 0;
  check_tiled(s, mask, 80, "packed and padded", segments);
}

TEST(Attention, ReferenceWithSegmentsEqualsEachSegmentAlone) {
  // A packed row of two samples (3 and 4 tokens) against each sample as its own sequence.
  const AttentionShape packed{.batch = 1, .q_len = 7, .kv_len = 7, .q_heads = 2, .kv_heads = 1, .head_dim = 3};
  const std::vector<int32_t> segments{4, 4, 4, 9, 9, 9, 9};
  const auto q = random_doubles(q_size(packed), 90), k = random_doubles(kv_size(packed), 91),
             v = random_doubles(kv_size(packed), 92);
  std::vector<double> out(q.size());
  reference::attention_forward(out.data(), static_cast<double*>(nullptr), q.data(), k.data(), v.data(), nullptr, packed,
                               0.6, segments.data());
  for (const auto& [start, length] : {std::pair<int64_t, int64_t>{0, 3}, {3, 4}}) {
    const AttentionShape alone{.batch = 1, .q_len = length, .kv_len = length, .q_heads = 2, .kv_heads = 1, .head_dim = 3};
    std::vector<double> part(static_cast<size_t>(length * 2 * 3));
    reference::attention_forward(part.data(), static_cast<double*>(nullptr), q.data() + start * 6, k.data() + start * 3,
                                 v.data() + start * 3, nullptr, alone, 0.6);
    for (size_t i = 0; i < part.size(); ++i) EXPECT_NEAR(out[static_cast<size_t>(start * 6) + i], part[i], 1e-12);
  }
}

TEST(Attention, TiledMatchesNaiveForMultiQueryAndOddHeadDim) {
  const AttentionShape s{.batch = 1, .q_len = 67, .kv_len = 67, .q_heads = 3, .kv_heads = 1, .head_dim = 13};
  check_tiled(s, {}, 30, "mqa");
}

TEST(Attention, QueriesAfterACacheMatchNaive) {
  // 5 new queries at positions 140..144 over a cache of 145 keys in a buffer of 160.
  const AttentionShape s{.batch = 2, .q_len = 5, .kv_len = 145, .q_heads = 4, .kv_heads = 2, .head_dim = 8,
                         .kv_capacity = 160};
  check_tiled(s, padding_mask(s, 0, 66), 40, "cache");
  const AttentionShape decode{.batch = 1, .q_len = 1, .kv_len = 100, .q_heads = 2, .kv_heads = 1, .head_dim = 8};
  check_tiled(decode, {}, 50, "decode");
}

TEST(Attention, SingleQueryRowsMatchNaive) {
  // Decoding's shape (one query over a cache): grouped heads, a key run of several 64-tiles in a
  // longer buffer, padding, head sizes with and without a SIMD tail.
  const AttentionShape smollm{.batch = 2, .q_len = 1, .kv_len = 289, .q_heads = 9, .kv_heads = 3, .head_dim = 64,
                              .kv_capacity = 300};
  check_tiled(smollm, padding_mask(smollm, 0, 17), 110, "decode, padded");
  const AttentionShape odd{.batch = 1, .q_len = 1, .kv_len = 70, .q_heads = 4, .kv_heads = 1, .head_dim = 13};
  check_tiled(odd, {}, 120, "decode, head_dim 13");
  const AttentionShape packed{.batch = 2, .q_len = 1, .kv_len = 150, .q_heads = 6, .kv_heads = 2, .head_dim = 16};
  check_tiled(packed, padding_mask(packed, 0, 0), 130, "decode, packed", packed_segments(packed, {{40, 110}, {149, 1}}));
  // A prompt of 65 queries: its second tile is one query row.
  const AttentionShape tail{.batch = 1, .q_len = 65, .kv_len = 65, .q_heads = 2, .kv_heads = 1, .head_dim = 8};
  check_tiled(tail, {}, 140, "one-row tail tile");
}

TEST(Attention, SingleQueryRowWithNoVisibleKeyGetsZeros) {
  const AttentionShape s{.batch = 1, .q_len = 1, .kv_len = 5, .q_heads = 2, .kv_heads = 1, .head_dim = 4};
  const std::vector<uint8_t> mask(5, 0);
  const auto q = to_float(random_doubles(q_size(s), 63)), k = to_float(random_doubles(kv_size(s), 64));
  const auto v = to_float(random_doubles(kv_size(s), 65));
  for_each_path([&](const std::string& path) {
    std::vector<float> out(q.size(), 9.0f), lse(2, 9.0f);
    attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), mask.data(), s, 0.5f);
    for (float value : out) EXPECT_EQ(value, 0.0f) << path;
    for (float value : lse) EXPECT_TRUE(std::isinf(value) && value < 0) << path;
  });
}

TEST(Attention, QueryWithNoVisibleKeyGetsZeros) {
  // Sequence 1 is left-padded by 3: its first 3 queries see only padding.
  const AttentionShape s{.batch = 2, .q_len = 6, .kv_len = 6, .q_heads = 1, .kv_heads = 1, .head_dim = 4};
  const auto mask = padding_mask(s, 0, 3);
  const auto q = to_float(random_doubles(q_size(s), 60)), k = to_float(random_doubles(kv_size(s), 61));
  const auto v = to_float(random_doubles(kv_size(s), 62));
  std::vector<float> out(q.size(), 9.0f), lse(12);
  attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), mask.data(), s, 0.5f);
  for (int64_t i = 0; i < 3; ++i) {
    for (int c = 0; c < 4; ++c) EXPECT_EQ(out[(6 + i) * 4 + c], 0.0f);
    EXPECT_TRUE(std::isinf(lse[6 + i]));
  }
  for (float value : out) EXPECT_TRUE(std::isfinite(value));
}

TEST(Attention, RejectsInconsistentShapes) {
  std::vector<float> buffer(64);
  const AttentionShape heads{.batch = 1, .q_len = 2, .kv_len = 2, .q_heads = 3, .kv_heads = 2, .head_dim = 2};
  EXPECT_THROW(attention_forward(buffer.data(), nullptr, buffer.data(), buffer.data(), buffer.data(), nullptr, heads, 1),
               Error);
  const AttentionShape longer{.batch = 1, .q_len = 3, .kv_len = 2, .q_heads = 1, .kv_heads = 1, .head_dim = 2};
  EXPECT_THROW(check_attention_shape(longer), Error);
  const AttentionShape fine{.batch = 1, .q_len = 2, .kv_len = 2, .q_heads = 1, .kv_heads = 1, .head_dim = 2};
  EXPECT_THROW(attention_backward(buffer.data(), buffer.data(), buffer.data(), buffer.data(), buffer.data(),
                                  buffer.data(), buffer.data(), buffer.data(), nullptr, nullptr, fine, 1),
               Error);
}

}  // namespace
}  // namespace slmtune::kernels
