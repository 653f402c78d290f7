#pragma once
// LoRA (Hu et al. 2021) on one linear layer, as PEFT's lora.Linear computes it:
//   y = base(x) + s · dropout(x) · Aᵀ · Bᵀ,   A [r, in], B [out, r], s = α/r (α/√r with rsLoRA).
// A starts Kaiming-uniform as nn.init.kaiming_uniform_(a=√5) draws it (bound = 1/√in) and B at zero,
// so at step 0 the layer is exactly the base layer. Attached through the transformer's LinearAdapter
// hook; a Phi-3 fused qkv_proj/gate_up_proj is one layer like any other.
//
// Dropout masks are a pure function of (seed, step, element), not of a stream, because the hook's
// forward runs twice under recompute and backward must see the same mask without stored state: the
// trainer calls set_step() once per micro-batch.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "core/uninitialized_floats.hpp"
#include "kernels/gradient_store.hpp"
#include "model/transformer.hpp"
#include "peft/lora_config.hpp"

namespace slmtune::peft {

// One trainable tensor of an adapter, named by PEFT's suffix ("lora_A.weight", …).
struct AdapterParameter {
  std::string name;
  Shape shape;
  std::span<float> value;
  std::span<float> gradient;
};

class LoraAdapter : public LinearAdapter {
 public:
  // Initialises A and B per config.init_lora_weights with an Rng seeded by `seed`.
  LoraAdapter(int64_t in_features, int64_t out_features, const LoraConfig& config, uint64_t seed);

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  int64_t rank() const { return r_; }
  float scaling() const { return scaling_; }
  float dropout() const { return dropout_; }

  std::span<float> lora_A() { return a_; }  // [r, in]
  std::span<float> lora_B() { return b_; }  // [out, r]
  std::span<const float> lora_A() const { return a_; }
  std::span<const float> lora_B() const { return b_; }
  std::span<float> grad_A() { return grad_a_; }
  std::span<float> grad_B() { return grad_b_; }
  virtual std::vector<AdapterParameter> parameters();
  void zero_gradients();

  // Dropout applies only in training; `step` selects the mask (the same step gives the same mask).
  void set_training(bool training) { training_ = training; }
  void set_step(uint64_t step) { step_ = step; }

  void forward(float* y, const float* x, int64_t n) override;
  void backward(float* dx, const float* dy, const float* x, int64_t n) override;

  // s·B·A [out, in] in f32.
  std::vector<float> delta() const;
  // W [out, in] f32 in place: merge adds the update, unmerge takes it out again.
  virtual void merge_into(std::span<float> weight);
  virtual void unmerge_from(std::span<float> weight);

 private:
  // The AVX-512 path of forward and backward (lora_avx512.hpp): same results up to f32 rounding.
  void forward_blocked(float* y, const float* x, int64_t n) const;
  void backward_blocked(float* dx, const float* dy, const float* x, int64_t n);
  // Rows [first_row, first_row + rows) of x after dropout: x's own rows when dropout is off, else a
  // masked copy in `buffer` (the mask's elements numbered from x's start, as dropped_input numbers them).
  const float* dropped_rows(const float* x, int64_t first_row, int64_t rows, UninitializedFloats& buffer) const;

 protected:
  // x after dropout (x itself when dropout is off); `buffer` holds the masked copy when needed.
  const float* dropped_input(const float* x, int64_t n, UninitializedFloats& buffer) const;
  bool dropout_active() const { return training_ && dropout_ > 0.0f; }
  // h = x·Aᵀ [n, r]
  void project_down(const float* x, int64_t n, std::vector<float>& h) const;
  // The LoRA branch's backward for an upstream gradient `dy` ([n, out], without the scaling):
  // accumulates dA, dB and ADDS s·dy·B·A into dx_dropped ([n, in], the gradient at the dropped input),
  // or writes it there with dx_store Overwrite.
  void lora_backward(const float* dy, const float* x_dropped, int64_t n, float* dx_dropped,
                     kernels::GradientStore dx_store = kernels::GradientStore::Add);
  // Splits n rows into chunks of at least kRowsPerChunk, one share per thread: body(first, rows, chunk).
  static constexpr int64_t kRowsPerChunk = 64;
  static int64_t row_chunks(int64_t n);
  static void for_each_row_chunk(int64_t n, const std::function<void(int64_t, int64_t, int64_t)>& body);
  // dx += mask ⊙ dx_dropped / (1 − p)
  void dropout_backward(float* dx, const float* dx_dropped, int64_t n) const;

  int64_t in_, out_, r_;
  float scaling_;
  float dropout_;
  uint64_t dropout_seed_;
  uint64_t step_ = 0;
  bool training_ = true;
  std::vector<float> a_, b_, grad_a_, grad_b_;
};

}  // namespace slmtune::peft
