#pragma once
// The decoder-only transformer of the five supported families (Llama, Mistral, Qwen2, Phi-3, phi-2),
// as Hugging Face's modeling files compute it, with an explicit backward per layer (llm.c style).
//
// Forward: token embedding → N blocks → final norm → lm_head (or the tied embedding). A block is
//   sequential (Llama/Qwen2/Phi-3): h = x + o_proj(attn(norm1(x))); out = h + mlp(norm2(h))
//   parallel (phi-2):                out = x + dense(attn(ln(x))) + fc2(gelu(fc1(ln(x))))
// All compute is f32; weights stay in their stored dtype (kernels expand them tile by tile).
//
// Training: forward(..., training) keeps each block's activations (or only each block's input under
// `recompute`, re-running the block inside backward), then backward() fills the gradient buffers of
// the TRAINABLE parameters only. Frozen parameters (the default) own no gradient memory; the
// gradient still flows through them to the inputs of every linear layer, which is what adapters need.
//
// Nothing derived from the weights is cached between forwards (every kernel call reads the entry's
// current storage), so a full fine-tune updates ModelWeights::trainable_values(i) in place — through
// the shared_ptr<ModelWeights> it passed here — and the next forward sees the new values. An entry
// in NF4 (ModelWeights::quantize_linears_nf4) runs through the NF4 kernels and cannot be trainable.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/weights.hpp"

namespace slmtune {

class KvCache;

// A batch of right-padded sequences, [batch, seq_len] row-major.
struct Batch {
  int64_t batch_size = 1;
  int64_t seq_len = 0;
  std::vector<int32_t> input_ids;       // [batch·seq_len]
  std::vector<uint8_t> attention_mask;  // 1 = real token, 0 = padding; empty = all real
  std::vector<int32_t> position_ids;    // empty = 0, 1, … per row (HF's default), or per segment
  // Packing: a segment id per token (a segment is a run of equal ids in a row, one sample). Tokens
  // attend only within their segment (block-diagonal causal attention), position ids (when not
  // given) restart at 0 with each segment, and the target that would cross into the next segment is
  // not counted in the loss. Empty = one segment per row.
  std::vector<int32_t> segment_ids;
  // Hugging Face convention: labels[b, t] is the token at t (usually input_ids with -100 on prompt
  // and padding); position t's logits predict labels[b, t + 1] (the shift happens inside). Empty =
  // no loss.
  std::vector<int32_t> labels;
};

enum class LogitsMode {
  None,  // loss only (training): [tokens, vocab] logits never exist
  All,   // [batch, seq_len, vocab]
  Last,  // [batch, 1, vocab]: each row's last real token (per the attention mask)
};

enum class Activations {
  None,       // inference: nothing kept, backward() is refused
  Keep,       // every block keeps what its backward needs
  Recompute,  // keep only each block's input; backward re-runs the block (activation checkpointing)
};

struct ForwardOptions {
  LogitsMode logits = LogitsMode::All;
  Activations activations = Activations::None;
  // The loss's gradient is of grad_scale × mean loss (gradient accumulation over micro-batches).
  float grad_scale = 1.0f;
  // Check every block's output for NaN/Inf and fail naming the layer.
  bool check_numerics = false;
};

struct ForwardResult {
  std::vector<float> logits;  // per LogitsMode
  int64_t logits_rows = 0;    // batch·seq_len, batch or 0
  double loss = 0.0;          // mean cross-entropy over counted targets (0 without labels)
  int64_t loss_tokens = 0;    // targets counted
};

// An extension of one linear layer (the LoRA/DoRA hook). forward ADDS the adapter's contribution to
// y = x·Wᵀ + b; backward receives dy and the layer's input x and ADDS the adapter's share of the input
// gradient into dx (and accumulates its own parameter gradients, which it owns). Under recompute the
// forward runs twice per step, so an adapter must not keep per-call state between forward and backward.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  // x: [n, in], y: [n, out]
  virtual void forward(float* y, const float* x, int64_t n) = 0;
  virtual void backward(float* dx, const float* dy, const float* x, int64_t n) = 0;
};

// Called during backward once the gradient of a linear layer's input is complete, for tests and
// diagnostics. `name` is "model.layers.L.<module>.input" with <module> as in the HF names
// (self_attn.q_proj — shared by k/v and fused qkv —, self_attn.o_proj/dense, mlp.gate_proj — shared
// by up_proj —, mlp.gate_up_proj, mlp.fc1, mlp.down_proj/fc2), or "lm_head.input".
using GradientObserver = std::function<void(const std::string& name, std::span<const float> gradient)>;

class Transformer {
 public:
  explicit Transformer(std::shared_ptr<const ModelWeights> weights);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const;
  const ModelWeights& weights() const;

  // Throws slmtune::Error on a malformed batch (sizes, token ids outside the vocabulary, positions
  // beyond the rope table) or, with check_numerics, on the first non-finite block output.
  ForwardResult forward(const Batch& batch, const ForwardOptions& options = {});
  // Decoding (batch 1): runs `tokens` after the cache's contents (positions continue from
  // cache.length()), appends their keys and values, and returns the logits of the last token
  // ([vocab], LogitsMode::Last) or of every new token ([tokens, vocab], LogitsMode::All).
  std::vector<float> forward_cached(std::span<const int32_t> tokens, KvCache& cache,
                                    LogitsMode logits = LogitsMode::Last, bool check_numerics = false);

  // Gradients of the last training forward's loss, ADDED into the trainable parameters' buffers.
  void backward(const GradientObserver& observer = {});

  // Trainable parameters get an f32 gradient buffer (zeroed when made trainable); frozen ones none.
  void set_trainable(size_t parameter, bool trainable);
  void set_trainable(std::string_view hf_name, bool trainable);  // throws on an unknown name
  void set_all_trainable(bool trainable);
  bool trainable(size_t parameter) const;
  std::span<float> gradient(size_t parameter);  // empty when frozen
  void zero_gradients();
  int64_t gradient_bytes() const;

  // Attaches (or with null, removes) an adapter on linear `linear_name` ("q_proj", "qkv_proj",
  // "gate_up_proj", "fc1", …, as linear_module_names gives) of block `layer`.
  void set_adapter(int64_t layer, std::string_view linear_name, std::shared_ptr<LinearAdapter> adapter);

  // Bytes held by the activation arena after the last training forward, and the peak of the
  // backward's scratch (what recompute trades against).
  int64_t activation_bytes() const;
  int64_t peak_scratch_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slmtune
