#pragma once
// A dense tensor: dtype, shape (row-major, outermost first as in PyTorch) and bytes that are either
// owned or borrowed from a memory-mapped file (kept alive by a shared owner).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.hpp"

namespace slmtune {

using Shape = std::vector<int64_t>;

std::string shape_string(const Shape& shape);  // "[576, 49152]"
int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled owned storage.
  static Tensor zeros(DType dtype, Shape shape);
  // Owned copy of raw bytes, which must be exactly numel * dtype_size bytes.
  static Tensor from_bytes(DType dtype, Shape shape, std::span<const std::byte> bytes);
  // Borrowed view: `owner` keeps `data` alive (e.g. a MappedFile).
  static Tensor view(DType dtype, Shape shape, const std::byte* data, std::shared_ptr<const void> owner);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t axis) const { return shape_.at(axis); }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool empty() const { return data_ == nullptr && numel() == 0; }

  const std::byte* data() const { return data_; }
  // Writable only for owned storage; a view of a mapped file is read-only.
  std::byte* mutable_data();
  std::span<const std::byte> bytes() const { return {data_, nbytes()}; }

  template <class T>
  const T* as() const { return reinterpret_cast<const T*>(data_); }
  template <class T>
  T* as_mutable() { return reinterpret_cast<T*>(mutable_data()); }

  // Values converted to f32 (for float dtypes); throws naming the dtype otherwise.
  std::vector<float> to_f32_vector() const;
  Tensor to_f32() const;
  // f32 → f16/bf16/f32 with round-to-nearest-even.
  Tensor cast(DType target) const;

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  const std::byte* data_ = nullptr;
  std::shared_ptr<const void> owner_;
  bool owned_ = false;
};

// Converts `count` elements of a float dtype to f32.
void convert_to_f32(DType dtype, const std::byte* src, float* dst, size_t count);

}  // namespace slmtune
