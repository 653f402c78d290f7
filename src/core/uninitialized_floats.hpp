#pragma once
// A vector of floats whose resize() leaves the new elements unset, for buffers that a kernel writes
// in full before anything reads them (a matrix product's output, a norm's output). std::vector<float>
// zero-fills on resize: a training step of SmolLM2-135M allocated ~1 GB of activations that way,
// and the zero-filling ran on one thread while the other waited (~4% of the step's CPU samples).
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace slmtune {

// std::allocator, except that construction without arguments default-initializes (a no-op for float)
// instead of value-initializing. Construction with arguments (assign, push_back, copies) is unchanged.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  template <class U>
  void construct(U* place) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(place)) U;
  }
  template <class U, class... Args>
  void construct(U* place, Args&&... args) {
    ::new (static_cast<void*>(place)) U(std::forward<Args>(args)...);
  }
};

using UninitializedFloats = std::vector<float, DefaultInitAllocator<float>>;

}  // namespace slmtune
