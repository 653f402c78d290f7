#pragma once
// A small, fast, seedable generator (xoshiro256**) whose stream is the same on every platform and
// compiler, so a seed reproduces initial weights, data order and dropout masks exactly; its state can
// be saved in a checkpoint and restored.
#include <array>
#include <cstdint>

namespace slmtune {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  double uniform();                 // [0, 1)
  float normal();                   // standard normal (Box-Muller)
  uint64_t below(uint64_t bound);   // uniform in [0, bound), bound > 0
  std::array<uint64_t, 4> state() const { return state_; }
  void set_state(const std::array<uint64_t, 4>& state) { state_ = state; }

 private:
  std::array<uint64_t, 4> state_{};
};

}  // namespace slmtune
