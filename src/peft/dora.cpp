#include "peft/dora.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace slmtune::peft {
namespace {

int i(int64_t v) { return static_cast<int>(v); }

// A zero row would divide by zero; PEFT has no guard (it would produce inf), we clamp instead.
float safe_norm(double sum_of_squares) { return static_cast<float>(std::max(std::sqrt(sum_of_squares), 1e-30)); }

}  // namespace

DoraAdapter::DoraAdapter(BaseWeight base, const LoraConfig& config, uint64_t seed)
    : LoraAdapter(base.cols, base.rows, config, seed), base_(std::move(base)) {
  if (!base_.read_rows) fail("DoRA: no base weight to decompose");
  m_ = weight_norm();  // PEFT: magnitude = ‖W + s·B·A‖ at creation (= ‖W‖ when B = 0)
  grad_m_.assign(m_.size(), 0.0f);
}

std::vector<AdapterParameter> DoraAdapter::parameters() {
  auto params = LoraAdapter::parameters();
  params.push_back({"lora_magnitude_vector", {out_}, m_, grad_m_});
  return params;
}

int64_t DoraAdapter::tile_chunks() const {
  // Chunks of whole tiles: a multiple of the thread count, each tile about 256 KiB of f32.
  const int64_t lines = std::max<int64_t>(1, (int64_t{1} << 16) / in_);
  const int64_t tiles = (out_ + lines - 1) / lines;
  return std::min<int64_t>(tiles, std::max(1, threads()));
}

void DoraAdapter::for_each_tile(const TileBody& body) const {
  const int64_t chunks = tile_chunks();
  const int64_t lines = std::max<int64_t>(1, (int64_t{1} << 16) / in_);
  const int64_t per_chunk = (out_ + chunks - 1) / chunks;
  parallel_for(chunks, 1, [&](int64_t chunk_begin, int64_t chunk_end) {
    std::vector<float> w(static_cast<size_t>(std::min(lines, out_) * in_));
    std::vector<float> merged(w.size());
    std::vector<float> norms(static_cast<size_t>(std::min(lines, out_)));
    for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
      const int64_t chunk_first = chunk * per_chunk, chunk_last = std::min(out_, chunk_first + per_chunk);
      for (int64_t first = chunk_first; first < chunk_last; first += lines) {
        const int64_t rows = std::min(lines, chunk_last - first);
        base_.read_rows(first, rows, w.data());
        std::copy(w.begin(), w.begin() + rows * in_, merged.begin());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(rows), i(in_), i(r_), scaling_, b_.data() + first * r_,
                    i(r_), a_.data(), i(in_), 1.0f, merged.data(), i(in_));
        for (int64_t row = 0; row < rows; ++row) {
          double sum = 0.0;
          for (int64_t k = 0; k < in_; ++k) sum += static_cast<double>(merged[row * in_ + k]) * merged[row * in_ + k];
          norms[static_cast<size_t>(row)] = safe_norm(sum);
        }
        body(first, rows, w.data(), norms.data(), chunk);
      }
    }
  });
}

std::vector<float> DoraAdapter::weight_norm() const {
  std::vector<float> out(static_cast<size_t>(out_));
  for_each_tile([&](int64_t first, int64_t rows, const float*, const float* norms, int64_t) {
    std::copy(norms, norms + rows, out.begin() + first);
  });
  return out;
}

void DoraAdapter::forward(float* y, const float* x, int64_t n) {
  UninitializedFloats buffer;
  std::vector<float> h;
  const float* xd = dropped_input(x, n, buffer);
  project_down(xd, n, h);
  std::vector<float> v(static_cast<size_t>(n * out_));  // x̃·Aᵀ·Bᵀ
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(n), i(out_), i(r_), 1.0f, h.data(), i(r_), b_.data(), i(r_),
              0.0f, v.data(), i(out_));
  std::vector<float> u(static_cast<size_t>(n * out_));  // x̃·Wᵀ
  std::vector<float> g(static_cast<size_t>(out_));
  for_each_tile([&](int64_t first, int64_t rows, const float* w, const float* norms, int64_t) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(n), i(rows), i(in_), 1.0f, xd, i(in_), w, i(in_), 0.0f,
                u.data() + first, i(out_));
    for (int64_t row = 0; row < rows; ++row) g[first + row] = m_[first + row] / norms[row];
  });
  for (int64_t t = 0; t < n; ++t)
    for (int64_t o = 0; o < out_; ++o) {
      const size_t e = static_cast<size_t>(t * out_ + o);
      y[e] += (g[o] - 1.0f) * u[e] + g[o] * scaling_ * v[e];
    }
}

void DoraAdapter::backward(float* dx, const float* dy, const float* x, int64_t n) {
  UninitializedFloats buffer;
  std::vector<float> h;
  const float* xd = dropped_input(x, n, buffer);
  project_down(xd, n, h);
  std::vector<float> v(static_cast<size_t>(n * out_));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(n), i(out_), i(r_), 1.0f, h.data(), i(r_), b_.data(), i(r_),
              0.0f, v.data(), i(out_));
  std::vector<float> dy_lora(static_cast<size_t>(n * out_));
  // Each chunk of tiles adds dy_base·W into its own accumulator; they are summed afterwards.
  std::vector<std::vector<float>> dxd_parts(static_cast<size_t>(tile_chunks()));
  for_each_tile([&](int64_t first, int64_t rows, const float* w, const float* norms, int64_t chunk) {
    std::vector<float>& dxd_part = dxd_parts[static_cast<size_t>(chunk)];
    if (dxd_part.empty()) dxd_part.assign(static_cast<size_t>(n * in_), 0.0f);
    std::vector<float> u(static_cast<size_t>(n * rows)), dy_base(u.size());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(n), i(rows), i(in_), 1.0f, xd, i(in_), w, i(in_), 0.0f,
                u.data(), i(rows));
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t o = first + row;
      const float g = m_[o] / norms[row];
      double dm = 0.0;
      for (int64_t t = 0; t < n; ++t) {
        const float d = dy[t * out_ + o];
        // ∂y/∂m = (x̃·Wᵀ + s·x̃·Aᵀ·Bᵀ) / ‖W + sBA‖, the norm a constant.
        dm += static_cast<double>(d) * (u[t * rows + row] + scaling_ * v[t * out_ + o]) / norms[row];
        dy_lora[t * out_ + o] = d * g;
        dy_base[t * rows + row] = d * (g - 1.0f);
      }
      grad_m_[o] += static_cast<float>(dm);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, i(n), i(in_), i(rows), 1.0f, dy_base.data(), i(rows), w,
                i(in_), 1.0f, dxd_part.data(), i(in_));
  });
  std::vector<float> dxd(static_cast<size_t>(n * in_), 0.0f);
  for (const auto& part : dxd_parts)
    for (size_t e = 0; e < part.size(); ++e) dxd[e] += part[e];
  lora_backward(dy_lora.data(), xd, n, dxd.data());
  dropout_backward(dx, dxd.data(), n);
}

void DoraAdapter::merge_into(std::span<float> weight) {
  LoraAdapter::merge_into(weight);
  merged_norm_.resize(static_cast<size_t>(out_));
  for (int64_t o = 0; o < out_; ++o) {
    double sum = 0.0;
    for (int64_t k = 0; k < in_; ++k) sum += static_cast<double>(weight[o * in_ + k]) * weight[o * in_ + k];
    merged_norm_[o] = safe_norm(sum);
    const float g = m_[o] / merged_norm_[o];
    for (int64_t k = 0; k < in_; ++k) weight[o * in_ + k] *= g;
  }
}

void DoraAdapter::unmerge_from(std::span<float> weight) {
  if (merged_norm_.empty()) fail("DoRA unmerge: the adapter was never merged into this weight");
  if (static_cast<int64_t>(weight.size()) != out_ * in_)
    fail("DoRA unmerge: weight has {} values, the adapter expects [{}, {}]", weight.size(), out_, in_);
  for (int64_t o = 0; o < out_; ++o) {
    const float inverse = merged_norm_[o] / m_[o];
    for (int64_t k = 0; k < in_; ++k) weight[o * in_ + k] *= inverse;
  }
  LoraAdapter::unmerge_from(weight);
  merged_norm_.clear();
}

}  // namespace slmtune::peft
