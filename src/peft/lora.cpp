#include "peft/lora.hpp"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "kernels/cpu_features.hpp"
#include "peft/dropout_mask.hpp"
#include "peft/lora_avx512.hpp"

namespace slmtune::peft {
namespace {

// Elements per task when the mask is applied: enough to outweigh a parallel region's start.
constexpr int64_t kMaskGrain = 1 << 15;

// The vector loop below uses the same float arithmetic as the scalar one (a product, then a sum; no
// fused multiply-add), so both paths give bit-identical results.

// dx[e] += kept ? dy[e]·scale : 0 for e in [first, last); returns where the vector loop stopped.
SLMTUNE_TARGET_AVX512 int64_t add_kept_avx512(float* dx, const float* dy, const DropoutMask& mask, float scale,
                                              int64_t first, int64_t last) {
  const __m512 vscale = _mm512_set1_ps(scale);
  int64_t e = first;
  for (; e + 16 <= last; e += 16) {
    // Dropped lanes are left as they are (adding 0 would turn a −0 into +0).
    const __mmask16 kept = keep16(mask, static_cast<uint64_t>(e));
    const __m512 old = _mm512_loadu_ps(dx + e);
    _mm512_storeu_ps(dx + e, _mm512_mask_add_ps(old, kept, old, _mm512_mul_ps(_mm512_loadu_ps(dy + e), vscale)));
  }
  return e;
}

int i(int64_t v) { return static_cast<int>(v); }

// m [rows, cols] → mᵀ [cols, rows]
std::vector<float> transposed(const std::vector<float>& m, int64_t rows, int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t a = 0; a < rows; ++a)
    for (int64_t b = 0; b < cols; ++b) t[static_cast<size_t>(b * rows + a)] = m[static_cast<size_t>(a * cols + b)];
  return t;
}

// Rows per block on the fast path: a block of the (dropped) input, `width` floats a row, is ~128 KiB,
// so it is still in L2 when the block's second product reads it.
int64_t block_rows(int64_t width) { return std::clamp<int64_t>(32 * 1024 / std::max<int64_t>(width, 1), 8, 512); }

}  // namespace

LoraAdapter::LoraAdapter(int64_t in_features, int64_t out_features, const LoraConfig& config, uint64_t seed)
    : in_(in_features),
      out_(out_features),
      r_(config.r),
      scaling_(static_cast<float>(config.scaling())),
      dropout_(static_cast<float>(config.lora_dropout)),
      dropout_seed_(mix(seed ^ 0xd1b54a32d192ed03ULL)) {
  validate(config, "LoRA config");
  if (in_ <= 0 || out_ <= 0) fail("LoRA: a linear layer of shape [{}, {}] cannot take an adapter", out_, in_);
  a_.resize(static_cast<size_t>(r_ * in_));
  b_.assign(static_cast<size_t>(out_ * r_), 0.0f);
  grad_a_.assign(a_.size(), 0.0f);
  grad_b_.assign(b_.size(), 0.0f);
  Rng rng(seed);
  switch (config.init_lora_weights) {
    case LoraInit::Default:
    case LoraInit::Zero: {
      // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound = gain·√(3/fan_in) = 1/√in.
      const double bound = 1.0 / std::sqrt(static_cast<double>(in_));
      for (float& v : a_) v = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
      if (config.init_lora_weights == LoraInit::Zero) {
        // PEFT's init_lora_weights=False: B is drawn like A (a non-identity start, for tests).
        const double b_bound = 1.0 / std::sqrt(static_cast<double>(r_));
        for (float& v : b_) v = static_cast<float>((2.0 * rng.uniform() - 1.0) * b_bound);
      }
      break;
    }
    case LoraInit::Gaussian:
      for (float& v : a_) v = rng.normal() / static_cast<float>(r_);  // PEFT: normal_(std=1/r)
      break;
  }
}

std::vector<AdapterParameter> LoraAdapter::parameters() {
  return {{"lora_A.weight", {r_, in_}, a_, grad_a_}, {"lora_B.weight", {out_, r_}, b_, grad_b_}};
}

void LoraAdapter::zero_gradients() {
  for (auto& p : parameters()) std::fill(p.gradient.begin(), p.gradient.end(), 0.0f);
}

const float* LoraAdapter::dropped_input(const float* x, int64_t n, UninitializedFloats& buffer) const {
  if (!dropout_active()) return x;
  buffer.resize(static_cast<size_t>(n * in_));
  const float keep_scale = 1.0f / (1.0f - dropout_);
  const DropoutMask mask(dropout_seed_, step_, dropout_);
  float* out = buffer.data();
  const bool avx512 = kernels::use_avx512();
  parallel_for(n * in_, kMaskGrain, [&](int64_t first, int64_t last) {
    if (avx512) return avx512::drop(out + first, x + first, last - first, mask, keep_scale, static_cast<uint64_t>(first));
    for (int64_t e = first; e < last; ++e) out[e] = mask.keep(static_cast<uint64_t>(e)) ? x[e] * keep_scale : 0.0f;
  });
  return out;
}

void LoraAdapter::dropout_backward(float* dx, const float* dx_dropped, int64_t n) const {
  if (!dropout_active()) {
    for (int64_t e = 0; e < n * in_; ++e) dx[e] += dx_dropped[e];
    return;
  }
  const float keep_scale = 1.0f / (1.0f - dropout_);
  const DropoutMask mask(dropout_seed_, step_, dropout_);
  const bool avx512 = kernels::use_avx512();
  parallel_for(n * in_, kMaskGrain, [&](int64_t first, int64_t last) {
    int64_t e = avx512 ? add_kept_avx512(dx, dx_dropped, mask, keep_scale, first, last) : first;
    for (; e < last; ++e)
      if (mask.keep(static_cast<uint64_t>(e))) dx[e] += dx_dropped[e] * keep_scale;
  });
}

void LoraAdapter::project_down(const float* x, int64_t n, std::vector<float>& h) const {
  h.resize(static_cast<size_t>(n * r_));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(n), i(r_), i(in_), 1.0f, x, i(in_), a_.data(), i(in_), 0.0f,
              h.data(), i(r_));
}

void LoraAdapter::forward(float* y, const float* x, int64_t n) {
  if (kernels::use_avx512()) return forward_blocked(y, x, n);
  UninitializedFloats buffer;
  const float* xd = dropped_input(x, n, buffer);
  for_each_row_chunk(n, [&](int64_t r0, int64_t rows, int64_t) {
    std::vector<float> h;
    project_down(xd + r0 * in_, rows, h);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(rows), i(out_), i(r_), scaling_, h.data(), i(r_), b_.data(),
                i(r_), 1.0f, y + r0 * out_, i(out_));
  });
}

int64_t LoraAdapter::row_chunks(int64_t n) {
  return std::max<int64_t>(1, std::min<int64_t>(threads(), (n + kRowsPerChunk - 1) / kRowsPerChunk));
}

void LoraAdapter::for_each_row_chunk(int64_t n, const std::function<void(int64_t, int64_t, int64_t)>& body) {
  // Rows split among threads, each with a single-threaded sgemm: the adapter's products are too thin
  // (one side is r) for a multi-threaded BLAS call to pay for its synchronisation.
  const int64_t chunks = row_chunks(n);
  const int64_t per = (n + chunks - 1) / chunks;
  parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t r0 = c * per, rows = std::min(per, n - r0);
      if (rows > 0) body(r0, rows, c);
    }
  });
}

void LoraAdapter::lora_backward(const float* dy, const float* x_dropped, int64_t n, float* dx_dropped,
                                kernels::GradientStore dx_store) {
  // Chunks own disjoint rows of dx_dropped, so each can overwrite its rows.
  const float dx_beta = dx_store == kernels::GradientStore::Overwrite ? 0.0f : 1.0f;
  // Per chunk of rows: dB += s·dyᵀ·h;  dh = s·dy·B;  dA += dhᵀ·x;  dx += dh·A  (h = x·Aᵀ). With
  // several chunks, dA and dB are summed from per-chunk parts in chunk order: reproducible results.
  const int64_t chunks = row_chunks(n);
  std::vector<std::vector<float>> parts_a(static_cast<size_t>(chunks)), parts_b(static_cast<size_t>(chunks));
  for_each_row_chunk(n, [&](int64_t r0, int64_t rows, int64_t c) {
    float* grad_a = grad_a_.data();
    float* grad_b = grad_b_.data();
    if (chunks > 1) {
      parts_a[static_cast<size_t>(c)].assign(grad_a_.size(), 0.0f);
      parts_b[static_cast<size_t>(c)].assign(grad_b_.size(), 0.0f);
      grad_a = parts_a[static_cast<size_t>(c)].data();
      grad_b = parts_b[static_cast<size_t>(c)].data();
    }
    const float* dy_c = dy + r0 * out_;
    const float* x_c = x_dropped + r0 * in_;
    std::vector<float> h;
    project_down(x_c, rows, h);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i(out_), i(r_), i(rows), scaling_, dy_c, i(out_), h.data(),
                i(r_), 1.0f, grad_b, i(r_));
    std::vector<float> dh(static_cast<size_t>(rows * r_));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(rows), i(r_), i(out_), scaling_, dy_c, i(out_), b_.data(),
                i(r_), 0.0f, dh.data(), i(r_));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i(r_), i(in_), i(rows), 1.0f, dh.data(), i(r_), x_c, i(in_),
                1.0f, grad_a, i(in_));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(rows), i(in_), i(r_), 1.0f, dh.data(), i(r_), a_.data(),
                i(in_), dx_beta, dx_dropped + r0 * in_, i(in_));
  });
  if (chunks == 1) return;
  for (int64_t c = 0; c < chunks; ++c) {
    const auto& pa = parts_a[static_cast<size_t>(c)];
    const auto& pb = parts_b[static_cast<size_t>(c)];
    for (size_t k = 0; k < pa.size(); ++k) grad_a_[k] += pa[k];
    for (size_t k = 0; k < pb.size(); ++k) grad_b_[k] += pb[k];
  }
}

void LoraAdapter::backward(float* dx, const float* dy, const float* x, int64_t n) {
  if (kernels::use_avx512()) return backward_blocked(dx, dy, x, n);
  UninitializedFloats buffer;
  const float* xd = dropped_input(x, n, buffer);
  if (!dropout_active()) {
    lora_backward(dy, xd, n, dx);
    return;
  }
  UninitializedFloats dxd(static_cast<size_t>(n * in_));
  lora_backward(dy, xd, n, dxd.data(), kernels::GradientStore::Overwrite);
  dropout_backward(dx, dxd.data(), n);
}

// The fast path (AVX-512): per thread, a run of rows in blocks that stay in L2; see lora_avx512.hpp.
const float* LoraAdapter::dropped_rows(const float* x, int64_t first_row, int64_t rows,
                                       UninitializedFloats& buffer) const {
  const float* block = x + first_row * in_;
  if (!dropout_active()) return block;
  buffer.resize(static_cast<size_t>(rows * in_));
  avx512::drop(buffer.data(), block, rows * in_, DropoutMask(dropout_seed_, step_, dropout_),
               1.0f / (1.0f - dropout_), static_cast<uint64_t>(first_row * in_));
  return buffer.data();
}

void LoraAdapter::forward_blocked(float* y, const float* x, int64_t n) const {
  const std::vector<float> a_t = transposed(a_, r_, in_), b_t = transposed(b_, out_, r_);  // [in, r], [r, out]
  const int64_t block = block_rows(in_);
  for_each_row_chunk(n, [&](int64_t r0, int64_t rows, int64_t) {
    UninitializedFloats dropped, h(static_cast<size_t>(block * r_));
    for (int64_t b0 = r0; b0 < r0 + rows; b0 += block) {
      const int64_t m = std::min(block, r0 + rows - b0);
      const float* xb = dropped_rows(x, b0, m, dropped);
      avx512::project(h.data(), xb, m, in_, a_t.data(), r_);
      avx512::expand_add(y + b0 * out_, out_, h.data(), m, r_, b_t.data(), out_, scaling_);
    }
  });
}

void LoraAdapter::backward_blocked(float* dx, const float* dy, const float* x, int64_t n) {
  const std::vector<float> a_t = transposed(a_, r_, in_);  // [in, r]
  const bool drop = dropout_active();
  const DropoutMask mask(dropout_seed_, step_, dropout_);
  const float keep_scale = 1.0f / (1.0f - dropout_);
  const int64_t block = block_rows(std::max(in_, out_));
  // Per chunk (thread): dA [r, in] and dBᵀ/s [r, out], summed in chunk order below (reproducible).
  const int64_t chunks = row_chunks(n);
  std::vector<std::vector<float>> parts_a(static_cast<size_t>(chunks)), parts_bt(static_cast<size_t>(chunks));
  for_each_row_chunk(n, [&](int64_t r0, int64_t rows, int64_t c) {
    auto& part_a = parts_a[static_cast<size_t>(c)];
    auto& part_bt = parts_bt[static_cast<size_t>(c)];
    part_a.assign(static_cast<size_t>(r_ * in_), 0.0f);
    part_bt.assign(static_cast<size_t>(r_ * out_), 0.0f);
    UninitializedFloats dropped, h(static_cast<size_t>(block * r_)), dh(static_cast<size_t>(block * r_));
    for (int64_t b0 = r0; b0 < r0 + rows; b0 += block) {
      const int64_t m = std::min(block, r0 + rows - b0);
      const float* xb = dropped_rows(x, b0, m, dropped);
      const float* dyb = dy + b0 * out_;
      avx512::project(h.data(), xb, m, in_, a_t.data(), r_);     // h = x·Aᵀ
      avx512::project(dh.data(), dyb, m, out_, b_.data(), r_);   // dh = dy·B, then ·s
      for (int64_t e = 0; e < m * r_; ++e) dh[static_cast<size_t>(e)] *= scaling_;
      avx512::accumulate_outer(part_bt.data(), h.data(), m, r_, dyb, out_);  // dBᵀ/s += hᵀ·dy
      avx512::accumulate_outer(part_a.data(), dh.data(), m, r_, xb, in_);    // dA += dhᵀ·x
      if (drop)  // dx += mask ⊙ dh·A / (1 − p)
        avx512::expand_add_kept(dx + b0 * in_, dh.data(), m, r_, a_.data(), in_, keep_scale, mask,
                                static_cast<uint64_t>(b0 * in_));
      else
        avx512::expand_add(dx + b0 * in_, in_, dh.data(), m, r_, a_.data(), in_, 1.0f);
    }
  });
  for (int64_t c = 0; c < chunks; ++c) {
    const auto& pa = parts_a[static_cast<size_t>(c)];
    const auto& pbt = parts_bt[static_cast<size_t>(c)];
    for (size_t k = 0; k < pa.size(); ++k) grad_a_[k] += pa[k];
    for (int64_t o = 0; o < out_; ++o)
      for (int64_t j = 0; j < r_; ++j)
        grad_b_[static_cast<size_t>(o * r_ + j)] += scaling_ * pbt[static_cast<size_t>(j * out_ + o)];
  }
}

std::vector<float> LoraAdapter::delta() const {
  std::vector<float> d(static_cast<size_t>(out_ * in_));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(out_), i(in_), i(r_), scaling_, b_.data(), i(r_), a_.data(),
              i(in_), 0.0f, d.data(), i(in_));
  return d;
}

void LoraAdapter::merge_into(std::span<float> weight) {
  if (static_cast<int64_t>(weight.size()) != out_ * in_)
    fail("LoRA merge: weight has {} values, the adapter expects [{}, {}]", weight.size(), out_, in_);
  const auto d = delta();
  for (size_t k = 0; k < d.size(); ++k) weight[k] += d[k];
}

void LoraAdapter::unmerge_from(std::span<float> weight) {
  if (static_cast<int64_t>(weight.size()) != out_ * in_)
    fail("LoRA unmerge: weight has {} values, the adapter expects [{}, {}]", weight.size(), out_, in_);
  const auto d = delta();
  for (size_t k = 0; k < d.size(); ++k) weight[k] -= d[k];
}

}  // namespace slmtune::peft
