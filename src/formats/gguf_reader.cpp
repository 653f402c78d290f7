// Reading GGUF files. Everything the header claims (counts, lengths, offsets) is checked against the
// bytes actually there before anything is allocated or any tensor is handed out.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/ranges.h>

#include "core/error.hpp"
#include "core/byte_source.hpp"
#include "formats/byte_cursor.hpp"
#include "formats/gguf.hpp"

namespace slmtune::gguf {
namespace {

using formats::ByteCursor;

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
// Deeper nesting is certainly not a real file, and unbounded recursion would overflow the stack.
constexpr int kMaxArrayDepth = 32;
constexpr uint32_t kMaxDims = 8;

// The fewest bytes one encoded value of `type` can take, for bounding counts before reserving.
uint64_t min_encoded_size(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL: return 1;
    case ValueType::UINT16:
    case ValueType::INT16: return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32: return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
    case ValueType::STRING: return 8;      // the length
    case ValueType::ARRAY: return 4 + 8;  // element type + length
  }
  return 1;
}

ValueType read_value_type(ByteCursor& in, std::string_view what, std::string_view key) {
  const uint64_t at = in.position();
  const auto raw = in.read<uint32_t>(what);
  if (raw > static_cast<uint32_t>(ValueType::FLOAT64))
    fail("{}: metadata key '{}': unknown value type {} at offset {}", in.origin(), key, raw, at);
  return static_cast<ValueType>(raw);
}

std::string read_string(ByteCursor& in, std::string_view what) {
  const uint64_t at = in.position();
  const auto length = in.read<uint64_t>(what);
  if (length > in.remaining())
    fail("{}: {} at offset {} has length {}, beyond the end of the file ({} bytes left)", in.origin(), what, at,
         length, in.remaining());
  return std::string(in.read_bytes(length, what));
}

Value read_value(ByteCursor& in, ValueType type, std::string_view key, int depth) {
  switch (type) {
    case ValueType::UINT8: return Value::u8(in.read<uint8_t>("a uint8 value"));
    case ValueType::INT8: return Value::i8(in.read<int8_t>("an int8 value"));
    case ValueType::UINT16: return Value::u16(in.read<uint16_t>("a uint16 value"));
    case ValueType::INT16: return Value::i16(in.read<int16_t>("an int16 value"));
    case ValueType::UINT32: return Value::u32(in.read<uint32_t>("a uint32 value"));
    case ValueType::INT32: return Value::i32(in.read<int32_t>("an int32 value"));
    case ValueType::FLOAT32: return Value::f32(in.read<float>("a float32 value"));
    case ValueType::UINT64: return Value::u64(in.read<uint64_t>("a uint64 value"));
    case ValueType::INT64: return Value::i64(in.read<int64_t>("an int64 value"));
    case ValueType::FLOAT64: return Value::f64(in.read<double>("a float64 value"));
    case ValueType::BOOL: {
      const uint64_t at = in.position();
      const auto raw = in.read<uint8_t>("a bool value");
      if (raw > 1) fail("{}: metadata key '{}': bool at offset {} is {}, not 0 or 1", in.origin(), key, at, raw);
      return Value::boolean(raw == 1);
    }
    case ValueType::STRING: return Value::string(read_string(in, "a string value"));
    case ValueType::ARRAY: {
      if (depth >= kMaxArrayDepth)
        fail("{}: metadata key '{}': arrays nested deeper than {} at offset {}", in.origin(), key, kMaxArrayDepth,
             in.position());
      const ValueType element_type = read_value_type(in, "an array's element type", key);
      const uint64_t at = in.position();
      const auto count = in.read<uint64_t>("an array length");
      if (count > in.remaining() / min_encoded_size(element_type))
        fail("{}: metadata key '{}': array of {} {} at offset {} goes beyond the end of the file ({} bytes left)",
             in.origin(), key, count, value_type_name(element_type), at, in.remaining());
      std::vector<Value> items;
      items.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) items.push_back(read_value(in, element_type, key, depth + 1));
      return Value::array(element_type, std::move(items));
    }
  }
  fail("{}: metadata key '{}': unknown value type", in.origin(), key);
}

std::optional<DType> dtype_of_ggml(uint32_t ggml_type) {
  switch (ggml_type) {
    case 0: return DType::F32;
    case 1: return DType::F16;
    case 24: return DType::I8;
    case 25: return DType::I16;
    case 26: return DType::I32;
    case 27: return DType::I64;
    case 28: return DType::F64;
    case 30: return DType::BF16;
    default: return std::nullopt;
  }
}

// a * b, or nullopt on overflow.
std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t out;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

}  // namespace

Shape TensorInfo::shape() const {
  Shape out(dims.rbegin(), dims.rend());
  return out;
}

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;  // validated against overflow when the file was read
  return n;
}

uint64_t TensorInfo::nbytes() const {
  const GgmlTypeTraits traits = ggml_type_traits(type);
  if (traits.block_size == 0) return 0;
  return numel() / traits.block_size * traits.type_size;
}

File File::open(const std::filesystem::path& path) {
  ByteSource source = ByteSource::map(path);
  return parse(path, std::move(source.owner), source.data, source.size);
}

File File::open_bytes(std::span<const std::byte> bytes, const std::filesystem::path& name) {
  ByteSource source = ByteSource::copy(bytes);
  return parse(name, std::move(source.owner), source.data, source.size);
}

File File::parse(std::filesystem::path path, std::shared_ptr<const void> owner, const std::byte* data,
                 uint64_t size) {
  File file;
  file.path_ = std::move(path);
  file.owner_ = std::move(owner);
  file.data_ = data;
  file.size_ = size;
  const std::string origin = file.path_.string();
  ByteCursor in(data, size, origin);

  if (size < 4) fail("{}: not a GGUF file: {} bytes, too short for the magic", origin, size);
  const auto magic = in.read<uint32_t>("the magic");
  if (magic != kMagic) {
    char shown[5] = {};
    std::memcpy(shown, data, 4);
    for (char& c : shown)
      if (c != 0 && (c < 0x20 || c > 0x7e)) c = '?';
    fail("{}: not a GGUF file: magic at offset 0 is \"{}\" (0x{:08x}), expected \"GGUF\"", origin, shown, magic);
  }
  const auto version = in.read<uint32_t>("the version");
  if (version != 2 && version != 3) {
    if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3)
      fail("{}: big-endian GGUF (version field 0x{:08x} at offset 4) is not supported", origin, version);
    if (version == 1) fail("{}: GGUF version 1 (offset 4) is not supported: only versions 2 and 3", origin);
    fail("{}: unsupported GGUF version {} at offset 4: only versions 2 and 3", origin, version);
  }
  file.version_ = version;
  const auto tensor_count = in.read<uint64_t>("the tensor count");
  const auto kv_count = in.read<uint64_t>("the metadata count");

  // Smallest key/value: 8-byte key length, empty key, 4-byte type, 1-byte value.
  constexpr uint64_t kMinKvSize = 8 + 4 + 1;
  if (kv_count > in.remaining() / kMinKvSize)
    fail("{}: metadata count {} at offset 16 is impossible: only {} bytes follow", origin, kv_count, in.remaining());
  file.metadata_.reserve(static_cast<size_t>(kv_count));
  for (uint64_t i = 0; i < kv_count; ++i) {
    const uint64_t at = in.position();
    std::string key = read_string(in, "a metadata key");
    const ValueType type = read_value_type(in, "a metadata value type", key);
    Value value = read_value(in, type, key, 0);
    if (!file.key_index_.try_emplace(key, file.metadata_.size()).second)
      fail("{}: duplicate metadata key '{}' at offset {}", origin, key, at);
    file.metadata_.emplace_back(std::move(key), std::move(value));
  }

  if (const Value* alignment = file.find("general.alignment")) {
    if (!alignment->is_integer())
      fail("{}: metadata key 'general.alignment' must be an integer (uint32), found {}", origin,
           value_type_name(alignment->type()));
    const int64_t value = alignment->as_int();
    if (value <= 0 || !std::has_single_bit(static_cast<uint64_t>(value)))
      fail("{}: metadata key 'general.alignment' is {}, not a power of two", origin, value);
    file.alignment_ = static_cast<uint64_t>(value);
  }

  // Smallest tensor info: name length, empty name, dimension count (0 for a scalar), type, offset.
  constexpr uint64_t kMinTensorInfoSize = 8 + 4 + 4 + 8;
  const uint64_t tensor_count_at = in.position();
  if (tensor_count > in.remaining() / kMinTensorInfoSize)
    fail("{}: tensor count {} (offset 8) is impossible: only {} bytes follow the metadata (offset {})", origin,
         tensor_count, in.remaining(), tensor_count_at);
  file.tensors_.reserve(static_cast<size_t>(tensor_count));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    const uint64_t at = in.position();
    TensorInfo info;
    info.name = read_string(in, "a tensor name");
    const auto n_dims = in.read<uint32_t>("a tensor's dimension count");
    if (n_dims > kMaxDims)
      fail("{}: tensor '{}' (info at offset {}) has {} dimensions, at most {} supported", origin, info.name, at,
           n_dims, kMaxDims);
    info.dims.resize(n_dims);
    // The product of the non-zero dimensions must fit int64, so that a Shape's element count cannot
    // overflow in whatever order it is multiplied (a zero dimension alone does not make it safe).
    uint64_t nonzero_product = 1;
    for (auto& dim : info.dims) {
      dim = in.read<uint64_t>("a tensor dimension");
      const auto product = checked_mul(nonzero_product, dim == 0 ? 1 : dim);
      if (!product || *product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail("{}: tensor '{}' (info at offset {}): dimensions overflow 64 bits", origin, info.name, at);
      nonzero_product = *product;
    }
    info.type = in.read<uint32_t>("a tensor type");
    info.offset = in.read<uint64_t>("a tensor offset");
    const GgmlTypeTraits traits = ggml_type_traits(info.type);
    if (traits.block_size == 0)
      fail("{}: tensor '{}' (info at offset {}) has unknown ggml type {}", origin, info.name, at, info.type);
    const uint64_t row = info.dims.empty() ? 1 : info.dims[0];
    if (row % traits.block_size != 0)
      fail("{}: tensor '{}' of type {}: innermost dimension {} is not a multiple of the block size {}", origin,
           info.name, ggml_type_name(info.type), row, traits.block_size);
    // Checked here, before nbytes() can overflow: no tensor can need more bytes than the whole file.
    if (nonzero_product / traits.block_size > size / traits.type_size && info.numel() != 0)
      fail("{}: tensor '{}' (info at offset {}) of type {} with dimensions {} needs more bytes than the file "
           "holds ({})",
           origin, info.name, at, ggml_type_name(info.type), fmt::join(info.dims, "x"), size);
    if (info.offset % file.alignment_ != 0)
      fail("{}: tensor '{}' data offset {} is not a multiple of the alignment {}", origin, info.name, info.offset,
           file.alignment_);
    if (!file.tensor_index_.try_emplace(info.name, file.tensors_.size()).second)
      fail("{}: duplicate tensor name '{}' (info at offset {})", origin, info.name, at);
    file.tensors_.push_back(std::move(info));
  }

  // Files without tensors (vocabulary-only GGUFs) end right after the metadata, unpadded.
  const uint64_t end_of_infos = in.position();
  const uint64_t padding = (file.alignment_ - end_of_infos % file.alignment_) % file.alignment_;
  file.data_offset_ = end_of_infos + padding;
  if (file.tensors_.empty()) return file;
  if (file.data_offset_ > size)
    fail("{}: tensor data section would start at offset {}, beyond the end of the file ({} bytes)", origin,
         file.data_offset_, size);
  const uint64_t data_size = size - file.data_offset_;

  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(file.tensors_.size());
  for (const auto& info : file.tensors_) {
    const uint64_t nbytes = info.nbytes();
    if (info.offset > data_size || nbytes > data_size - info.offset)
      fail("{}: tensor '{}' data ({} bytes at data offset {}, file offset {}) goes beyond the end of the file ({} "
           "bytes)",
           origin, info.name, nbytes, info.offset, file.data_offset_ + info.offset, size);
    if (nbytes > 0) by_offset.push_back(&info);  // an empty tensor occupies nothing, wherever it points
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& prev = *by_offset[i - 1];
    const TensorInfo& next = *by_offset[i];
    if (prev.offset + prev.nbytes() > next.offset)
      fail("{}: tensors '{}' (data offset {}, {} bytes) and '{}' (data offset {}) overlap", origin, prev.name,
           prev.offset, prev.nbytes(), next.name, next.offset);
  }
  return file;
}

const Value* File::find(std::string_view key) const {
  const auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const Value& File::get(std::string_view key) const {
  const Value* value = find(key);
  if (!value) fail("{}: metadata key '{}' is missing", path_.string(), key);
  return *value;
}

template <class F>
decltype(auto) File::with_key(std::string_view key, F&& access) const {
  const Value& value = get(key);
  try {
    return access(value);
  } catch (const Error& e) {
    fail("{}: metadata key '{}': {}", path_.string(), key, e.what());
  }
}

int64_t File::get_int(std::string_view key) const {
  return with_key(key, [](const Value& v) { return v.as_int(); });
}
uint64_t File::get_uint(std::string_view key) const {
  return with_key(key, [](const Value& v) { return v.as_uint(); });
}
double File::get_float(std::string_view key) const {
  return with_key(key, [](const Value& v) { return v.as_float(); });
}
bool File::get_bool(std::string_view key) const {
  return with_key(key, [](const Value& v) { return v.as_bool(); });
}
const std::string& File::get_string(std::string_view key) const {
  return with_key(key, [](const Value& v) -> const std::string& { return v.as_string(); });
}
std::vector<std::string> File::get_string_array(std::string_view key) const {
  return with_key(key, [](const Value& v) { return v.as_string_array(); });
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::byte> File::tensor_bytes(const TensorInfo& info) const {
  // Offsets and sizes were checked against the file when it was opened.
  return {data_ + data_offset_ + info.offset, static_cast<size_t>(info.nbytes())};
}

Tensor File::tensor(std::string_view name) const {
  const TensorInfo* info = find_tensor(name);
  if (!info) fail("{}: no tensor named '{}'", path_.string(), name);
  const auto dtype = dtype_of_ggml(info->type);
  if (!dtype)
    fail("{}: tensor '{}' has type {}, which this reader cannot convert", path_.string(), name,
         ggml_type_name(info->type));
  const auto bytes = tensor_bytes(*info);
  // With a small general.alignment an element can sit at an address its type cannot be read from.
  if (reinterpret_cast<uintptr_t>(bytes.data()) % dtype_size(*dtype) != 0)
    return Tensor::from_bytes(*dtype, info->shape(), bytes);
  return Tensor::view(*dtype, info->shape(), bytes.data(), owner_);
}

}  // namespace slmtune::gguf
