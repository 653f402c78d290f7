#include "train/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "kernels/adamw.hpp"
#include "train/dynamic_quant_map.hpp"
#include "train/state_store.hpp"

namespace slmtune::train {
namespace {

constexpr int64_t kBlock = 256;  // bitsandbytes' block size for 8-bit optimizer state
constexpr char kMagic[8] = {'S', 'L', 'M', 'O', 'P', 'T', '1', '\0'};

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

}  // namespace

// Byte offsets into the store of one parameter's state.
struct Optimizer::Slot {
  size_t first = 0, second = 0;          // m and v (f32), or their 8-bit codes, or SGD's buffer
  size_t first_absmax = 0, second_absmax = 0;  // 8-bit: one f32 per block
};

OptimizerKind parse_optimizer_kind(const std::string& name) {
  if (name == "adamw") return OptimizerKind::adamw;
  if (name == "adamw_8bit") return OptimizerKind::adamw_8bit;
  if (name == "sgd") return OptimizerKind::sgd;
  fail("optimizer '{}': expected adamw, adamw_8bit or sgd", name);
}

std::string optimizer_kind_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::adamw: return "adamw";
    case OptimizerKind::adamw_8bit: return "adamw_8bit";
    case OptimizerKind::sgd: return "sgd";
  }
  return "?";
}

Optimizer::Optimizer(OptimizerSettings settings, std::vector<NamedParameter> parameters)
    : settings_(std::move(settings)), parameters_(std::move(parameters)) {
  size_t bytes = 0;
  slots_.resize(parameters_.size());
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const auto& p = parameters_[i];
    if (p.grad.size() != p.value.size())
      fail("optimizer parameter {}: {} values but {} gradients", p.name, p.value.size(), p.grad.size());
    const size_t n = p.value.size();
    Slot& s = slots_[i];
    switch (settings_.kind) {
      case OptimizerKind::adamw:
        s.first = bytes, bytes += align64(n * sizeof(float));
        s.second = bytes, bytes += align64(n * sizeof(float));
        break;
      case OptimizerKind::adamw_8bit: {
        const size_t blocks = (n + kBlock - 1) / kBlock;
        s.first = bytes, bytes += align64(n);
        s.second = bytes, bytes += align64(n);
        s.first_absmax = bytes, bytes += align64(blocks * sizeof(float));
        s.second_absmax = bytes, bytes += align64(blocks * sizeof(float));
        break;
      }
      case OptimizerKind::sgd:
        s.first = bytes, bytes += align64(n * sizeof(float));
        break;
    }
  }
  store_ = std::make_unique<StateStore>(bytes, settings_.paged_file);
  if (settings_.kind == OptimizerKind::adamw_8bit) {
    // Code of 0.0 in each map, so that fresh moments dequantize to exactly zero.
    const uint8_t zero_signed = quantize_nearest(dynamic_quant_map(true), 0.0f);
    const uint8_t zero_unsigned = quantize_nearest(dynamic_quant_map(false), 0.0f);
    for (size_t i = 0; i < parameters_.size(); ++i) {
      std::memset(store_->data() + slots_[i].first, zero_signed, parameters_[i].value.size());
      std::memset(store_->data() + slots_[i].second, zero_unsigned, parameters_[i].value.size());
    }
  }
}

Optimizer::~Optimizer() = default;

size_t Optimizer::state_bytes() const { return store_->size(); }
bool Optimizer::paged() const { return store_->paged(); }

void Optimizer::step(float lr) {
  ++steps_;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    switch (settings_.kind) {
      case OptimizerKind::adamw: step_adamw(slots_[i], parameters_[i], lr); break;
      case OptimizerKind::adamw_8bit: step_adamw_8bit(slots_[i], parameters_[i], lr); break;
      case OptimizerKind::sgd: step_sgd(slots_[i], parameters_[i], lr); break;
    }
  }
}

void Optimizer::step_adamw(Slot& slot, const NamedParameter& p, float lr) {
  kernels::AdamWSettings s;
  s.lr = lr;
  s.beta1 = settings_.beta1;
  s.beta2 = settings_.beta2;
  s.eps = settings_.eps;
  s.weight_decay = settings_.weight_decay;
  auto* m = reinterpret_cast<float*>(store_->data() + slot.first);
  auto* v = reinterpret_cast<float*>(store_->data() + slot.second);
  kernels::adamw_update(p.value.data(), p.grad.data(), m, v, static_cast<int64_t>(p.value.size()), s, steps_);
}

void Optimizer::step_adamw_8bit(Slot& slot, const NamedParameter& p, float lr) {
  const auto& map1 = dynamic_quant_map(true);
  const auto& map2 = dynamic_quant_map(false);
  auto* code1 = reinterpret_cast<uint8_t*>(store_->data() + slot.first);
  auto* code2 = reinterpret_cast<uint8_t*>(store_->data() + slot.second);
  auto* absmax1 = reinterpret_cast<float*>(store_->data() + slot.first_absmax);
  auto* absmax2 = reinterpret_cast<float*>(store_->data() + slot.second_absmax);
  const float b1 = settings_.beta1, b2 = settings_.beta2;
  const double t = static_cast<double>(steps_);
  const float correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), t));
  const float correction2 = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(b2), t)));
  const float step_size = lr * correction2 / correction1;
  const float decay = 1.0f - lr * settings_.weight_decay;
  const int64_t n = static_cast<int64_t>(p.value.size());
  float m[kBlock], v[kBlock];
  for (int64_t start = 0, block = 0; start < n; start += kBlock, ++block) {
    const int64_t len = std::min(kBlock, n - start);
    // Dequantize, update in f32, then requantize against the block's new absolute maximum.
    float max1 = 0.0f, max2 = 0.0f;
    for (int64_t j = 0; j < len; ++j) {
      const float g = p.grad[static_cast<size_t>(start + j)];
      m[j] = b1 * (map1[code1[start + j]] * absmax1[block]) + (1.0f - b1) * g;
      v[j] = b2 * (map2[code2[start + j]] * absmax2[block]) + (1.0f - b2) * g * g;
      max1 = std::max(max1, std::fabs(m[j]));
      max2 = std::max(max2, v[j]);
      float& w = p.value[static_cast<size_t>(start + j)];
      w *= decay;
      w -= step_size * m[j] / (std::sqrt(v[j]) + settings_.eps * correction2);
    }
    absmax1[block] = max1;
    absmax2[block] = max2;
    const float inv1 = max1 > 0.0f ? 1.0f / max1 : 0.0f;
    const float inv2 = max2 > 0.0f ? 1.0f / max2 : 0.0f;
    for (int64_t j = 0; j < len; ++j) {
      code1[start + j] = quantize_nearest(map1, m[j] * inv1);
      code2[start + j] = quantize_nearest(map2, v[j] * inv2);
    }
  }
}

void Optimizer::step_sgd(Slot& slot, const NamedParameter& p, float lr) {
  auto* buf = reinterpret_cast<float*>(store_->data() + slot.first);
  const float mu = settings_.momentum, wd = settings_.weight_decay;
  const bool first = steps_ == 1;  // torch seeds the buffer with the first gradient itself
  for (size_t j = 0; j < p.value.size(); ++j) {
    const float g = p.grad[j] + wd * p.value[j];
    buf[j] = mu == 0.0f ? g : (first ? g : mu * buf[j] + g);
    p.value[j] -= lr * buf[j];
  }
}

void Optimizer::save(const std::filesystem::path& path) const {
  AtomicFile out(path);
  out.write(kMagic, sizeof kMagic);
  const uint32_t kind = static_cast<uint32_t>(settings_.kind);
  const uint64_t count = parameters_.size(), bytes = store_->size();
  out.write(&kind, sizeof kind);
  out.write(&steps_, sizeof steps_);
  out.write(&count, sizeof count);
  for (const auto& p : parameters_) {
    const uint64_t len = p.name.size(), n = p.value.size();
    out.write(&len, sizeof len);
    out.write(p.name);
    out.write(&n, sizeof n);
  }
  out.write(&bytes, sizeof bytes);
  out.write(store_->data(), store_->size());
  out.commit();
}

void Optimizer::load(const std::filesystem::path& path) {
  const std::string data = read_file(path);
  size_t at = 0;
  const auto take = [&](void* dst, size_t n, const char* what) {
    if (n > data.size() - at) fail("{}: optimizer state ends inside {} at byte {}", path.string(), what, at);
    std::memcpy(dst, data.data() + at, n);
    at += n;
  };
  char magic[8];
  take(magic, sizeof magic, "the header");
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) fail("{}: not an slmtune optimizer state file", path.string());
  uint32_t kind = 0;
  int64_t steps = 0;
  uint64_t count = 0, bytes = 0;
  take(&kind, sizeof kind, "the header");
  take(&steps, sizeof steps, "the header");
  take(&count, sizeof count, "the header");
  if (kind != static_cast<uint32_t>(settings_.kind))
    fail("{}: optimizer state of kind {} but this run uses {}", path.string(), kind, optimizer_kind_name(settings_.kind));
  if (count != parameters_.size())
    fail("{}: optimizer state for {} parameters but this run trains {}", path.string(), count, parameters_.size());
  for (const auto& p : parameters_) {
    uint64_t len = 0, n = 0;
    take(&len, sizeof len, "a parameter name");
    if (len > data.size() - at) fail("{}: optimizer state ends inside a parameter name", path.string());
    const std::string name = data.substr(at, len);
    at += len;
    take(&n, sizeof n, "a parameter size");
    if (name != p.name || n != p.value.size())
      fail("{}: optimizer state holds parameter {} ({} values) where this run has {} ({} values)", path.string(),
           name, n, p.name, p.value.size());
  }
  take(&bytes, sizeof bytes, "the state size");
  if (bytes != store_->size() || data.size() - at != bytes)
    fail("{}: optimizer state of {} bytes, expected {}", path.string(), data.size() - at, store_->size());
  std::memcpy(store_->data(), data.data() + at, bytes);
  steps_ = steps;
}

double clip_grad_norm(std::span<const std::span<float>> gradients, double max_norm) {
  double sum = 0.0;
  for (const auto& g : gradients)
    for (float x : g) sum += static_cast<double>(x) * static_cast<double>(x);
  const double norm = std::sqrt(sum);
  if (max_norm > 0.0 && std::isfinite(norm)) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
      for (const auto& g : gradients)
        for (float& x : g) x = static_cast<float>(static_cast<double>(x) * coef);
  }
  return norm;
}

}  // namespace slmtune::train
