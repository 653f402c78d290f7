#include "core/tensor.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "core/half.hpp"

namespace slmtune {

std::string shape_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

// Large owned tensors (weight matrices, a grown embedding) get transparent huge pages where the kernel
// offers them on request (THP "madvise" mode, Debian's default): streaming a weight matrix once per
// decoded token is bound by memory bandwidth, and with 4 KiB pages every 4 KiB of weights costs a TLB
// walk; with 2 MiB pages the same stream ran ~5-20% faster here (single-row matvec, 1 thread). Small
// tensors keep plain operator new: rounding them up to 2 MiB would waste memory.
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugePageThreshold = size_t{4} << 20;

std::shared_ptr<std::byte[]> zeroed_storage(size_t bytes) {
  if (bytes >= kHugePageThreshold) {
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    if (void* memory = std::aligned_alloc(kHugePage, rounded)) {
      ::madvise(memory, rounded, MADV_HUGEPAGE);  // advice only: without THP the pages stay small
      std::memset(memory, 0, bytes);
      return std::shared_ptr<std::byte[]>(static_cast<std::byte*>(memory), [](std::byte* p) { std::free(p); });
    }
  }
  return std::shared_ptr<std::byte[]>(new std::byte[bytes == 0 ? 1 : bytes]());
}

}  // namespace

Tensor Tensor::zeros(DType dtype, Shape shape) {
  for (int64_t d : shape)
    if (d < 0) fail("tensor shape {} has a negative dimension", shape_string(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  const size_t bytes = t.nbytes();
  auto storage = zeroed_storage(bytes);
  t.data_ = storage.get();
  t.owner_ = std::shared_ptr<const void>(storage, storage.get());
  t.owned_ = true;
  return t;
}

Tensor Tensor::from_bytes(DType dtype, Shape shape, std::span<const std::byte> bytes) {
  Tensor t = zeros(dtype, std::move(shape));
  if (bytes.size() != t.nbytes())
    fail("tensor {} of {} needs {} bytes, got {}", shape_string(t.shape_), dtype_name(dtype), t.nbytes(),
         bytes.size());
  if (!bytes.empty()) std::memcpy(t.mutable_data(), bytes.data(), bytes.size());
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, const std::byte* data, std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.owner_ = std::move(owner);
  t.owned_ = false;
  return t;
}

std::byte* Tensor::mutable_data() {
  if (!owned_) fail("tensor {} is a read-only view of a mapped file", shape_string(shape_));
  return const_cast<std::byte*>(data_);
}

void convert_to_f32(DType dtype, const std::byte* src, float* dst, size_t count) {
  if (count == 0) return;  // an empty tensor may have no storage at all
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, count * sizeof(float));
      return;
    case DType::F16:
      for (size_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, src + 2 * i, 2);
        dst[i] = f16_to_f32(bits);
      }
      return;
    case DType::BF16:
      for (size_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, src + 2 * i, 2);
        dst[i] = bf16_to_f32(bits);
      }
      return;
    case DType::F64:
      for (size_t i = 0; i < count; ++i) {
        double value;
        std::memcpy(&value, src + 8 * i, 8);
        dst[i] = static_cast<float>(value);
      }
      return;
    case DType::F8_E4M3:
      for (size_t i = 0; i < count; ++i) dst[i] = f8_e4m3_to_f32(static_cast<uint8_t>(src[i]));
      return;
    case DType::F8_E5M2:
      for (size_t i = 0; i < count; ++i) dst[i] = f8_e5m2_to_f32(static_cast<uint8_t>(src[i]));
      return;
    default:
      fail("cannot convert {} values to f32: not a floating-point type", dtype_name(dtype));
  }
}

std::vector<float> Tensor::to_f32_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  convert_to_f32(dtype_, data_, out.data(), out.size());
  return out;
}

Tensor Tensor::to_f32() const {
  Tensor out = zeros(DType::F32, shape_);
  convert_to_f32(dtype_, data_, out.as_mutable<float>(), static_cast<size_t>(numel()));
  return out;
}

Tensor Tensor::cast(DType target) const {
  if (target == DType::F32) return to_f32();
  const std::vector<float> values = to_f32_vector();
  Tensor out = zeros(target, shape_);
  switch (target) {
    case DType::F16:
      f32_to_f16(values.data(), out.as_mutable<uint16_t>(), values.size());
      break;
    case DType::BF16:
      f32_to_bf16(values.data(), out.as_mutable<uint16_t>(), values.size());
      break;
    default:
      fail("cannot cast to {}: only F32, F16 and BF16 are supported", dtype_name(target));
  }
  return out;
}

}  // namespace slmtune
