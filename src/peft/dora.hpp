#pragma once
// DoRA, weight-decomposed low-rank adaptation (Liu et al. 2024), as PEFT's DoraLinearLayer computes
// it. The adapted weight is split into a trainable magnitude per output row and a direction:
//   W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖     (‖·‖ the norm of each row, m initialised to ‖W‖)
// and, with g = m / ‖W + s·B·A‖, the layer adds to the base output y = x·Wᵀ + b
//   (g − 1) ⊙ (x̃·Wᵀ) + g ⊙ s·(x̃·Aᵀ·Bᵀ)       (x̃ = dropout(x); PEFT applies the dropout there too)
// The norm is treated as a constant in backward (the paper's §4.3 and PEFT's .detach()): gradients
// reach m, A and B through the numerator only, which saves memory and barely changes training.
//
// Note: DoRA is not a "dynamic rank" method (that description fits AdaLoRA); this is DoRA as published.
//
// The base weight is read tile by tile (f32/f16/bf16 or NF4) for the row norms and the x̃·Wᵀ term, so
// DoRA costs one extra pass over the base weight in forward and one in backward, and no f32 copy.
#include "peft/base_weight.hpp"
#include "peft/lora.hpp"

namespace slmtune::peft {

class DoraAdapter : public LoraAdapter {
 public:
  DoraAdapter(BaseWeight base, const LoraConfig& config, uint64_t seed);

  std::span<float> magnitude() { return m_; }
  std::span<const float> magnitude() const { return m_; }
  std::span<float> grad_magnitude() { return grad_m_; }
  std::vector<AdapterParameter> parameters() override;

  // ‖W + s·B·A‖ per output row, from the base weight.
  std::vector<float> weight_norm() const;

  void forward(float* y, const float* x, int64_t n) override;
  void backward(float* dx, const float* dy, const float* x, int64_t n) override;

  // W ← m ⊙ (W + sBA)/‖W + sBA‖; unmerge inverts it with the norms kept from the merge.
  void merge_into(std::span<float> weight) override;
  void unmerge_from(std::span<float> weight) override;

 private:
  // Visits the base weight in tiles of rows, tiles split among threads (each with its own buffers
  // and a single-threaded sgemm, as the kernels do): body(first_row, rows, W tile, norms of
  // W + sBA, chunk) with `chunk` the index of the thread's share, for per-thread accumulators.
  using TileBody = std::function<void(int64_t, int64_t, const float*, const float*, int64_t)>;
  // Returns the number of chunks (accumulators a caller needs is at most this).
  int64_t tile_chunks() const;
  void for_each_tile(const TileBody& body) const;

  BaseWeight base_;
  std::vector<float> m_, grad_m_;
  std::vector<float> merged_norm_;  // from the last merge_into, for unmerge_from
};

}  // namespace slmtune::peft
