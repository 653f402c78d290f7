#pragma once
// Element types of tensors as stored in model files. Quantized block types (Q8_0, Q4_K, NF4…) join
// this list with the quantization module; a file reader that meets a type it cannot convert reports
// the type's name instead of failing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace slmtune {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  F64,
  I64,
  I32,
  I16,
  I8,
  U8,
  BOOL,
  F8_E4M3,
  F8_E5M2,
};

// Name as safetensors spells it ("F32", "BF16", "F8_E4M3"…).
std::string_view dtype_name(DType type);
std::optional<DType> dtype_from_name(std::string_view name);
size_t dtype_size(DType type);
// Whether the values can be converted to f32 for use as model weights.
bool dtype_is_float(DType type);

}  // namespace slmtune
