#include "peft/lora.hpp"

#include <cblas.h>
#include <immintrin.h>

#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "kernels/cpu_features.hpp"

namespace slmtune::peft {
namespace {

// splitmix64's finaliser: a counter-based draw, so a mask element needs no generator state.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Element e of a step's mask is kept when u = (mix(base + e) >> 11)·2⁻⁵³, uniform in [0, 1), is at
// least p. The mask is drawn three times per adapter and step (forward, and twice in backward) over
// every input element, so the draw is kept cheap: the per-step base is mixed once, and u ≥ p is
// compared in integers, (mix(base + e) >> 11) ≥ ⌈p·2⁵³⌉ (exact: p·2⁵³ is a double with p's 24-bit
// mantissa), which keeps every decision the double comparison made.
struct DropoutMask {
  uint64_t base;
  uint64_t threshold;
  DropoutMask(uint64_t seed, uint64_t step, float p)
      : base(mix(seed ^ mix(step + 0x9e3779b97f4a7c15ULL))),
        threshold(static_cast<uint64_t>(std::ceil(static_cast<double>(p) * 0x1.0p53))) {}
  bool keep(uint64_t element) const { return (mix(base + element) >> 11) >= threshold; }
};

// Elements per task when the mask is applied: enough to outweigh a parallel region's start.
constexpr int64_t kMaskGrain = 1 << 15;

// The same draws eight at a time in 64-bit lanes (AVX-512 DQ multiplies them), and the same float
// arithmetic as the scalar loops (a product, then a sum; no fused multiply-add), so both paths give
// bit-identical results. Scalar, the draws took ~11% of a SmolLM2-135M LoRA step's CPU time.
#define SLMTUNE_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

// GCC's vector extension rather than shift intrinsics: GCC 12's _mm512_srli_epi64 trips its own
// -Wmaybe-uninitialized.
typedef uint64_t u64x8 __attribute__((vector_size(64)));

// mix() in eight lanes, returning the top 53 bits that the comparison reads.
SLMTUNE_TARGET_AVX512 __m512i mixed_top8(u64x8 z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return reinterpret_cast<__m512i>((z ^ (z >> 31)) >> 11);
}

// Keep flags for elements e … e+15.
SLMTUNE_TARGET_AVX512 __mmask16 keep16(const DropoutMask& mask, uint64_t e) {
  const uint64_t b = mask.base + e;
  const u64x8 first = {b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7};
  const __m512i threshold = _mm512_set1_epi64(static_cast<long long>(mask.threshold));
  const __mmask8 low = _mm512_cmpge_epu64_mask(mixed_top8(first), threshold);
  const __mmask8 high = _mm512_cmpge_epu64_mask(mixed_top8(first + 8), threshold);
  return static_cast<__mmask16>(low | (static_cast<unsigned>(high) << 8));
}

// out[e] = kept ? x[e]·scale : 0 for e in [first, last); returns where the vector loop stopped.
SLMTUNE_TARGET_AVX512 int64_t drop_avx512(float* out, const float* x, const DropoutMask& mask, float scale,
                                          int64_t first, int64_t last) {
  const __m512 vscale = _mm512_set1_ps(scale);
  int64_t e = first;
  for (; e + 16 <= last; e += 16)
    _mm512_storeu_ps(out + e, _mm512_maskz_mul_ps(keep16(mask, static_cast<uint64_t>(e)), _mm512_loadu_ps(x + e), vscale));
  return e;
}

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
    int64_t e = avx512 ? drop_avx512(out, x, mask, keep_scale, first, last) : first;
    for (; e < last; ++e) out[e] = mask.keep(static_cast<uint64_t>(e)) ? x[e] * keep_scale : 0.0f;
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
