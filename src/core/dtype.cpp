#include "core/dtype.hpp"

#include <array>
#include <utility>

namespace slmtune {
namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
  bool is_float;
};
constexpr std::array<DTypeInfo, 12> kInfo{{
    {DType::F32, "F32", 4, true},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::F64, "F64", 8, true},
    {DType::I64, "I64", 8, false},
    {DType::I32, "I32", 4, false},
    {DType::I16, "I16", 2, false},
    {DType::I8, "I8", 1, false},
    {DType::U8, "U8", 1, false},
    {DType::BOOL, "BOOL", 1, false},
    {DType::F8_E4M3, "F8_E4M3", 1, true},
    {DType::F8_E5M2, "F8_E5M2", 1, true},
}};
const DTypeInfo& info(DType type) { return kInfo[static_cast<size_t>(type)]; }
}  // namespace

std::string_view dtype_name(DType type) { return info(type).name; }
size_t dtype_size(DType type) { return info(type).size; }
bool dtype_is_float(DType type) { return info(type).is_float; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& entry : kInfo)
    if (entry.name == name) return entry.type;
  return std::nullopt;
}

}  // namespace slmtune
