#pragma once
// GGUF v3 (and v2, whose little-endian layout is the same; v1 used 32-bit counts and is refused) —
// the llama.cpp model file: typed metadata key/values, tensor descriptors, then aligned tensor data.
// Spec: shared/testdata/docs/gguf.md.
// The reader validates the whole header up front so later accessors never meet a bad offset.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace slmtune::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8,
  UINT16,
  INT16,
  UINT32,
  INT32,
  FLOAT32,
  BOOL,
  STRING,
  ARRAY,
  UINT64,
  INT64,
  FLOAT64,
};
// "uint8", "string", "array"… as the spec spells them.
std::string_view value_type_name(ValueType type);

// One metadata value. Arrays hold Values of one element type and may nest (arrays of arrays).
class Value {
 public:
  static Value u8(uint8_t v);
  static Value i8(int8_t v);
  static Value u16(uint16_t v);
  static Value i16(int16_t v);
  static Value u32(uint32_t v);
  static Value i32(int32_t v);
  static Value f32(float v);
  static Value boolean(bool v);
  static Value string(std::string v);
  static Value u64(uint64_t v);
  static Value i64(int64_t v);
  static Value f64(double v);
  // Every item must have `element_type` (throws otherwise).
  static Value array(ValueType element_type, std::vector<Value> items);
  static Value string_array(std::vector<std::string> items);
  static Value i32_array(std::vector<int32_t> items);
  static Value f32_array(std::vector<float> items);

  ValueType type() const { return type_; }
  bool is_integer() const;
  // Accessors throw slmtune::Error "expected <type>, found <type>" on a mismatch.
  int64_t as_int() const;    // any integer type, range-checked
  uint64_t as_uint() const;  // any integer type, range-checked (no negatives)
  double as_float() const;   // float32/float64 or any integer
  bool as_bool() const;
  const std::string& as_string() const;
  ValueType element_type() const;  // of an array
  const std::vector<Value>& as_array() const;
  std::vector<std::string> as_string_array() const;
  std::vector<int64_t> as_int_array() const;
  std::vector<float> as_float_array() const;
  // A scalar's bytes as stored, zero-extended to 64 bits: floats bit for bit, so a NaN keeps its payload
  // (reading one through as_float() quiets a signalling NaN). Throws for a string or an array.
  uint64_t scalar_bits() const;

  // Same type (and element type) and same contents; floats compared bit for bit.
  bool operator==(const Value& other) const;
  // Short human-readable form for `inspect`: numbers, quoted strings, "[array of 32000 string]".
  std::string summary() const;

 private:
  ValueType type_ = ValueType::UINT8;
  ValueType element_type_ = ValueType::UINT8;
  uint64_t bits_ = 0;  // unsigned value, two's-complement signed value, or the float's bits
  std::string string_;
  std::vector<Value> items_;

  [[noreturn]] void mismatch(std::string_view expected) const;
};

// "F32", "F16", "Q4_0", "Q4_K", "Q6_K", "BF16"…; an unknown id gives "type 99".
std::string_view ggml_type_name(uint32_t ggml_type);
// ggml type ids of the plain element types.
inline constexpr uint32_t kGgmlF32 = 0;
inline constexpr uint32_t kGgmlF16 = 1;
inline constexpr uint32_t kGgmlBF16 = 30;
// Elements per block and bytes per block; {0, 0} for an unknown or retired id.
struct GgmlTypeTraits {
  uint64_t block_size;
  uint64_t type_size;
};
GgmlTypeTraits ggml_type_traits(uint32_t ggml_type);

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // GGUF order: dims[0] is the innermost (contiguous) dimension
  uint32_t type = 0;           // ggml type id
  uint64_t offset = 0;         // relative to the start of the tensor data section
  Shape shape() const;         // PyTorch order (dims reversed)
  uint64_t numel() const;
  uint64_t nbytes() const;  // from the ggml type's block size / type size
};

class File {
 public:
  // Memory-mapped; validates everything up front. Errors name the path and the offset/key/tensor.
  static File open(const std::filesystem::path& path);
  // Parses an in-memory copy (fuzzing, tests); `name` stands in for the path in errors.
  static File open_bytes(std::span<const std::byte> bytes, const std::filesystem::path& name = "<memory>");

  uint32_t version() const { return version_; }
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }  // file order
  const Value* find(std::string_view key) const;
  // Throws "<path>: metadata key '<key>' is missing".
  const Value& get(std::string_view key) const;
  // Typed lookups whose errors name the path and the key as well as the type mismatch.
  int64_t get_int(std::string_view key) const;
  uint64_t get_uint(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;

  uint64_t alignment() const { return alignment_; }  // general.alignment or 32
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // file order
  const TensorInfo* find_tensor(std::string_view name) const;
  // Zero-copy view for F32/F16/BF16/F64/I8/I16/I32/I64; any other ggml type throws
  // "<path>: tensor '<name>' has type Q4_K, which this reader cannot convert".
  Tensor tensor(std::string_view name) const;
  std::span<const std::byte> tensor_bytes(const TensorInfo& info) const;  // raw bytes of any type
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::shared_ptr<const void> owner_;  // keeps `data_` alive (the mapping or an owned copy)
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> key_index_;
  std::map<std::string, size_t, std::less<>> tensor_index_;

  static File parse(std::filesystem::path path, std::shared_ptr<const void> owner, const std::byte* data,
                    uint64_t size);
  template <class F>
  decltype(auto) with_key(std::string_view key, F&& access) const;
};

class Writer {
 public:
  // Insertion order kept; setting an existing key replaces its value in place.
  void set(std::string key, Value value);
  // F32/F16/BF16/F64/I8/I16/I32/I64, shape in PyTorch order.
  void add_tensor(std::string name, const Tensor& tensor);
  // Any ggml type; `data` must be exactly the type's size for `dims`.
  void add_raw_tensor(std::string name, std::vector<uint64_t> dims, uint32_t ggml_type, std::vector<std::byte> data);
  // Atomic; alignment from general.alignment or 32. A file without tensors ends after the metadata.
  void write(const std::filesystem::path& path) const;
  // The exact bytes write() puts in the file.
  std::vector<std::byte> serialize() const;

 private:
  struct PendingTensor {
    TensorInfo info;
    Tensor tensor;                // add_tensor: kept as given (a view stays zero-copy until write)
    std::vector<std::byte> raw;   // add_raw_tensor
    std::span<const std::byte> bytes() const;
  };
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
  uint64_t alignment() const;
  // Header, metadata, tensor infos (with their offsets) and the padding before the data.
  std::vector<std::byte> encode_header() const;
  void add_pending(PendingTensor pending);
};

}  // namespace slmtune::gguf
