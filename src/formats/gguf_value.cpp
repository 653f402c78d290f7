// GGUF metadata values and the names of value and tensor types.
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

#include "core/error.hpp"
#include "formats/gguf.hpp"

namespace slmtune::gguf {
namespace {

constexpr std::array<std::string_view, 13> kValueTypeNames{
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64",
};

bool is_signed_integer(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}
bool is_unsigned_integer(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  const auto index = static_cast<uint32_t>(type);
  if (index < kValueTypeNames.size()) return kValueTypeNames[index];
  return "unknown value type";
}

#define SLMTUNE_GGUF_SCALAR(factory, ctype, vtype, to_bits) \
  Value Value::factory(ctype v) {                            \
    Value out;                                               \
    out.type_ = ValueType::vtype;                            \
    out.bits_ = to_bits;                                     \
    return out;                                              \
  }
SLMTUNE_GGUF_SCALAR(u8, uint8_t, UINT8, v)
SLMTUNE_GGUF_SCALAR(u16, uint16_t, UINT16, v)
SLMTUNE_GGUF_SCALAR(u32, uint32_t, UINT32, v)
SLMTUNE_GGUF_SCALAR(u64, uint64_t, UINT64, v)
SLMTUNE_GGUF_SCALAR(i8, int8_t, INT8, static_cast<uint64_t>(static_cast<int64_t>(v)))
SLMTUNE_GGUF_SCALAR(i16, int16_t, INT16, static_cast<uint64_t>(static_cast<int64_t>(v)))
SLMTUNE_GGUF_SCALAR(i32, int32_t, INT32, static_cast<uint64_t>(static_cast<int64_t>(v)))
SLMTUNE_GGUF_SCALAR(i64, int64_t, INT64, static_cast<uint64_t>(v))
SLMTUNE_GGUF_SCALAR(f32, float, FLOAT32, std::bit_cast<uint32_t>(v))
SLMTUNE_GGUF_SCALAR(f64, double, FLOAT64, std::bit_cast<uint64_t>(v))
SLMTUNE_GGUF_SCALAR(boolean, bool, BOOL, v ? 1u : 0u)
#undef SLMTUNE_GGUF_SCALAR

Value Value::string(std::string v) {
  Value out;
  out.type_ = ValueType::STRING;
  out.string_ = std::move(v);
  return out;
}

Value Value::array(ValueType element_type, std::vector<Value> items) {
  if (static_cast<uint32_t>(element_type) >= kValueTypeNames.size())
    fail("GGUF array: unknown element type {}", static_cast<uint32_t>(element_type));
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].type_ != element_type)
      fail("GGUF array of {}: item {} is a {}", value_type_name(element_type), i, value_type_name(items[i].type_));
  Value out;
  out.type_ = ValueType::ARRAY;
  out.element_type_ = element_type;
  out.items_ = std::move(items);
  return out;
}

Value Value::string_array(std::vector<std::string> items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (auto& s : items) values.push_back(string(std::move(s)));
  return array(ValueType::STRING, std::move(values));
}

Value Value::i32_array(std::vector<int32_t> items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (int32_t v : items) values.push_back(i32(v));
  return array(ValueType::INT32, std::move(values));
}

Value Value::f32_array(std::vector<float> items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (float v : items) values.push_back(f32(v));
  return array(ValueType::FLOAT32, std::move(values));
}

void Value::mismatch(std::string_view expected) const {
  if (type_ == ValueType::ARRAY)
    fail("expected {}, found array of {}", expected, value_type_name(element_type_));
  fail("expected {}, found {}", expected, value_type_name(type_));
}

bool Value::is_integer() const { return is_signed_integer(type_) || is_unsigned_integer(type_); }

int64_t Value::as_int() const {
  if (is_signed_integer(type_)) return static_cast<int64_t>(bits_);
  if (!is_unsigned_integer(type_)) mismatch("an integer");
  if (bits_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail("expected an integer that fits int64, found {} {}", value_type_name(type_), bits_);
  return static_cast<int64_t>(bits_);
}

uint64_t Value::as_uint() const {
  if (is_unsigned_integer(type_)) return bits_;
  if (!is_signed_integer(type_)) mismatch("an integer");
  const auto v = static_cast<int64_t>(bits_);
  if (v < 0) fail("expected a non-negative integer, found {} {}", value_type_name(type_), v);
  return static_cast<uint64_t>(v);
}

double Value::as_float() const {
  if (type_ == ValueType::FLOAT32) return std::bit_cast<float>(static_cast<uint32_t>(bits_));
  if (type_ == ValueType::FLOAT64) return std::bit_cast<double>(bits_);
  if (is_signed_integer(type_)) return static_cast<double>(static_cast<int64_t>(bits_));
  if (is_unsigned_integer(type_)) return static_cast<double>(bits_);
  mismatch("a number");
}

bool Value::as_bool() const {
  if (type_ != ValueType::BOOL) mismatch("bool");
  return bits_ != 0;
}

const std::string& Value::as_string() const {
  if (type_ != ValueType::STRING) mismatch("string");
  return string_;
}

ValueType Value::element_type() const {
  if (type_ != ValueType::ARRAY) mismatch("array");
  return element_type_;
}

const std::vector<Value>& Value::as_array() const {
  if (type_ != ValueType::ARRAY) mismatch("array");
  return items_;
}

std::vector<std::string> Value::as_string_array() const {
  if (type_ != ValueType::ARRAY || element_type_ != ValueType::STRING) mismatch("array of string");
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& item : items_) out.push_back(item.string_);
  return out;
}

std::vector<int64_t> Value::as_int_array() const {
  if (type_ != ValueType::ARRAY || !(is_signed_integer(element_type_) || is_unsigned_integer(element_type_)))
    mismatch("array of integers");
  std::vector<int64_t> out;
  out.reserve(items_.size());
  for (const auto& item : items_) out.push_back(item.as_int());
  return out;
}

std::vector<float> Value::as_float_array() const {
  if (type_ != ValueType::ARRAY || element_type_ == ValueType::STRING || element_type_ == ValueType::ARRAY ||
      element_type_ == ValueType::BOOL)
    mismatch("array of numbers");
  std::vector<float> out;
  out.reserve(items_.size());
  for (const auto& item : items_) out.push_back(static_cast<float>(item.as_float()));
  return out;
}

uint64_t Value::scalar_bits() const {
  if (type_ == ValueType::STRING || type_ == ValueType::ARRAY)
    fail("expected a number or bool, found {}", value_type_name(type_));
  return bits_;
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case ValueType::STRING: return string_ == other.string_;
    case ValueType::ARRAY: return element_type_ == other.element_type_ && items_ == other.items_;
    default: return bits_ == other.bits_;
  }
}

std::string Value::summary() const {
  switch (type_) {
    case ValueType::STRING: {
      constexpr size_t kMax = 60;
      if (string_.size() <= kMax) return fmt::format("\"{}\"", string_);
      size_t cut = kMax;  // back off to a UTF-8 character boundary so the output stays valid text
      while (cut > 0 && (static_cast<unsigned char>(string_[cut]) & 0xC0) == 0x80) --cut;
      return fmt::format("\"{}…\" ({} bytes)", string_.substr(0, cut), string_.size());
    }
    case ValueType::ARRAY:
      return fmt::format("[array of {} {}]", items_.size(), value_type_name(element_type_));
    case ValueType::BOOL: return bits_ ? "true" : "false";
    case ValueType::FLOAT32:
    case ValueType::FLOAT64: return fmt::format("{}", as_float());
    default:
      return is_signed_integer(type_) ? fmt::format("{}", static_cast<int64_t>(bits_)) : fmt::format("{}", bits_);
  }
}

namespace {
struct GgmlType {
  std::string_view name;
  GgmlTypeTraits traits;
};
// Indexed by ggml type id; ids whose support ggml removed have an empty name.
constexpr std::array<GgmlType, 40> kGgmlTypes{{
    {"F32", {1, 4}},        {"F16", {1, 2}},       {"Q4_0", {32, 18}},     {"Q4_1", {32, 20}},
    {"", {0, 0}},           {"", {0, 0}},          {"Q5_0", {32, 22}},     {"Q5_1", {32, 24}},
    {"Q8_0", {32, 34}},     {"Q8_1", {32, 36}},    {"Q2_K", {256, 84}},    {"Q3_K", {256, 110}},
    {"Q4_K", {256, 144}},   {"Q5_K", {256, 176}},  {"Q6_K", {256, 210}},   {"Q8_K", {256, 292}},
    {"IQ2_XXS", {256, 66}}, {"IQ2_XS", {256, 74}}, {"IQ3_XXS", {256, 98}}, {"IQ1_S", {256, 50}},
    {"IQ4_NL", {32, 18}},   {"IQ3_S", {256, 110}}, {"IQ2_S", {256, 82}},   {"IQ4_XS", {256, 136}},
    {"I8", {1, 1}},         {"I16", {1, 2}},       {"I32", {1, 4}},        {"I64", {1, 8}},
    {"F64", {1, 8}},        {"IQ1_M", {256, 56}},  {"BF16", {1, 2}},       {"", {0, 0}},
    {"", {0, 0}},           {"", {0, 0}},          {"TQ1_0", {256, 54}},   {"TQ2_0", {256, 66}},
    {"", {0, 0}},           {"", {0, 0}},          {"", {0, 0}},           {"MXFP4", {32, 17}},
}};
}  // namespace

std::string_view ggml_type_name(uint32_t ggml_type) {
  if (ggml_type < kGgmlTypes.size() && !kGgmlTypes[ggml_type].name.empty()) return kGgmlTypes[ggml_type].name;
  // Unknown ids are rare and the returned view must outlive the call, so each name is interned once
  // (std::map nodes never move).
  static std::mutex mutex;
  static std::map<uint32_t, std::string> unknown;
  std::lock_guard lock(mutex);
  auto [it, inserted] = unknown.try_emplace(ggml_type);
  if (inserted) it->second = fmt::format("type {}", ggml_type);
  return it->second;
}

GgmlTypeTraits ggml_type_traits(uint32_t ggml_type) {
  if (ggml_type < kGgmlTypes.size()) return kGgmlTypes[ggml_type].traits;
  return {0, 0};
}

}  // namespace slmtune::gguf
