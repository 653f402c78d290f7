#pragma once
// Optimizers over a list of named f32 parameters with their gradients: AdamW (torch.optim.AdamW's
// update through kernels/adamw), 8-bit AdamW (bitsandbytes' block-wise dynamic quantization of both
// moments, blocks of 256), and SGD with momentum (torch.optim.SGD: buf ← μ·buf + g, p ← p − lr·buf,
// weight decay added to the gradient). State lives in one StateStore — RAM or, with `paged`, a
// file-backed map — and save()/load() write and read it byte for byte, so a resumed run continues
// bit-identically.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace slmtune::train {

struct NamedParameter {
  std::string name;
  std::span<float> value;
  std::span<const float> grad;  // same length as value
};

enum class OptimizerKind { adamw, adamw_8bit, sgd };
OptimizerKind parse_optimizer_kind(const std::string& name);  // "adamw", "adamw_8bit", "sgd"
std::string optimizer_kind_name(OptimizerKind kind);

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::adamw;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
  float momentum = 0.9f;  // SGD
  // Non-empty: keep the state in this file through a shared memory map ("paged").
  std::filesystem::path paged_file;
};

class Optimizer {
 public:
  Optimizer(OptimizerSettings settings, std::vector<NamedParameter> parameters);
  ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update with learning rate `lr` from the current gradients.
  void step(float lr);
  int64_t steps_taken() const { return steps_; }
  size_t state_bytes() const;
  bool paged() const;

  // Written atomically; load() checks the kind, the parameter names and sizes and names the first
  // mismatch.
  void save(const std::filesystem::path& path) const;
  void load(const std::filesystem::path& path);

 private:
  struct Slot;
  void step_adamw(Slot& slot, const NamedParameter& p, float lr);
  void step_adamw_8bit(Slot& slot, const NamedParameter& p, float lr);
  void step_sgd(Slot& slot, const NamedParameter& p, float lr);

  OptimizerSettings settings_;
  std::vector<NamedParameter> parameters_;
  std::vector<Slot> slots_;
  std::unique_ptr<class StateStore> store_;
  int64_t steps_ = 0;
};

// torch.nn.utils.clip_grad_norm_: returns the global L2 norm of all gradients (before clipping) and,
// when it exceeds max_norm, scales every gradient by max_norm / (norm + 1e-6). max_norm ≤ 0 only
// measures.
double clip_grad_norm(std::span<const std::span<float>> gradients, double max_norm);

}  // namespace slmtune::train
