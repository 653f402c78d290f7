// Writing GGUF files: the header and tensor infos are encoded in memory, the tensor data is streamed
// straight from the tensors, so writing a model never holds a second copy of its weights.
#include <bit>
#include <cstring>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/gguf.hpp"

namespace slmtune::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF"
constexpr uint32_t kVersion = 3;

class Encoder {
 public:
  explicit Encoder(std::vector<std::byte>& out) : out_(out) {}
  template <class T>
  void put(T value) {
    put_bytes(&value, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    put_bytes(s.data(), s.size());
  }
  void put_bytes(const void* data, size_t size) {
    if (size == 0) return;
    const size_t at = out_.size();
    out_.resize(at + size);
    std::memcpy(out_.data() + at, data, size);
  }
  void put_value(const Value& value) {
    switch (value.type()) {
      case ValueType::UINT8: put<uint8_t>(static_cast<uint8_t>(value.as_uint())); break;
      case ValueType::INT8: put<int8_t>(static_cast<int8_t>(value.as_int())); break;
      case ValueType::UINT16: put<uint16_t>(static_cast<uint16_t>(value.as_uint())); break;
      case ValueType::INT16: put<int16_t>(static_cast<int16_t>(value.as_int())); break;
      case ValueType::UINT32: put<uint32_t>(static_cast<uint32_t>(value.as_uint())); break;
      case ValueType::INT32: put<int32_t>(static_cast<int32_t>(value.as_int())); break;
      case ValueType::UINT64: put<uint64_t>(value.as_uint()); break;
      case ValueType::INT64: put<int64_t>(value.as_int()); break;
      // Floats by their stored bits: a float->double->float trip would quiet a signalling NaN.
      case ValueType::FLOAT32: put<uint32_t>(static_cast<uint32_t>(value.scalar_bits())); break;
      case ValueType::FLOAT64: put<uint64_t>(value.scalar_bits()); break;
      case ValueType::BOOL: put<uint8_t>(value.as_bool() ? 1 : 0); break;
      case ValueType::STRING: put_string(value.as_string()); break;
      case ValueType::ARRAY:
        put<uint32_t>(static_cast<uint32_t>(value.element_type()));
        put<uint64_t>(value.as_array().size());
        for (const Value& item : value.as_array()) put_value(item);
        break;
    }
  }
  void pad_to(uint64_t alignment) {
    while (out_.size() % alignment != 0) out_.push_back(std::byte{0});
  }

 private:
  std::vector<std::byte>& out_;
};

uint64_t padding_for(uint64_t size, uint64_t alignment) { return (alignment - size % alignment) % alignment; }

uint32_t ggml_type_of(DType dtype, const std::string& name) {
  switch (dtype) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::I8: return 24;
    case DType::I16: return 25;
    case DType::I32: return 26;
    case DType::I64: return 27;
    case DType::F64: return 28;
    case DType::BF16: return 30;
    default: fail("GGUF writer: tensor '{}' has dtype {}, which GGUF cannot store", name, dtype_name(dtype));
  }
}

}  // namespace

std::span<const std::byte> Writer::PendingTensor::bytes() const {
  if (!raw.empty() || tensor.data() == nullptr) return raw;
  return tensor.bytes();
}

void Writer::set(std::string key, Value value) {
  for (auto& [existing, existing_value] : metadata_) {
    if (existing == key) {
      existing_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::add_pending(PendingTensor pending) {
  for (const auto& t : tensors_)
    if (t.info.name == pending.info.name) fail("GGUF writer: tensor '{}' added twice", pending.info.name);
  tensors_.push_back(std::move(pending));
}

void Writer::add_tensor(std::string name, const Tensor& tensor) {
  PendingTensor pending;
  pending.info.type = ggml_type_of(tensor.dtype(), name);
  for (auto it = tensor.shape().rbegin(); it != tensor.shape().rend(); ++it) {
    if (*it < 0) fail("GGUF writer: tensor '{}' has shape {}", name, shape_string(tensor.shape()));
    pending.info.dims.push_back(static_cast<uint64_t>(*it));
  }
  pending.info.name = std::move(name);
  pending.tensor = tensor;
  add_pending(std::move(pending));
}

void Writer::add_raw_tensor(std::string name, std::vector<uint64_t> dims, uint32_t ggml_type,
                            std::vector<std::byte> data) {
  const GgmlTypeTraits traits = ggml_type_traits(ggml_type);
  if (traits.block_size == 0) fail("GGUF writer: tensor '{}' has unknown ggml type {}", name, ggml_type);
  PendingTensor pending;
  pending.info.name = std::move(name);
  pending.info.dims = std::move(dims);
  pending.info.type = ggml_type;
  uint64_t numel = 1;
  for (uint64_t d : pending.info.dims)
    if (__builtin_mul_overflow(numel, d, &numel))
      fail("GGUF writer: tensor '{}' dimensions overflow 64 bits", pending.info.name);
  const uint64_t row = pending.info.dims.empty() ? 1 : pending.info.dims[0];
  if (row % traits.block_size != 0)
    fail("GGUF writer: tensor '{}' of type {}: innermost dimension {} is not a multiple of the block size {}",
         pending.info.name, ggml_type_name(ggml_type), row, traits.block_size);
  if (pending.info.nbytes() != data.size())
    fail("GGUF writer: tensor '{}' of type {} needs {} bytes, got {}", pending.info.name, ggml_type_name(ggml_type),
         pending.info.nbytes(), data.size());
  pending.raw = std::move(data);
  add_pending(std::move(pending));
}

uint64_t Writer::alignment() const {
  for (const auto& [key, value] : metadata_) {
    if (key != "general.alignment") continue;
    if (!value.is_integer())
      fail("GGUF writer: general.alignment must be an integer, found {}", value_type_name(value.type()));
    const int64_t alignment = value.as_int();
    if (alignment <= 0 || !std::has_single_bit(static_cast<uint64_t>(alignment)))
      fail("GGUF writer: general.alignment is {}, not a power of two", alignment);
    return static_cast<uint64_t>(alignment);
  }
  return 32;
}

std::vector<std::byte> Writer::encode_header() const {
  const uint64_t align = alignment();
  std::vector<std::byte> out;
  Encoder enc(out);
  enc.put<uint32_t>(kMagic);
  enc.put<uint32_t>(kVersion);
  enc.put<uint64_t>(tensors_.size());
  enc.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    enc.put_string(key);
    enc.put<uint32_t>(static_cast<uint32_t>(value.type()));
    enc.put_value(value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    enc.put_string(t.info.name);
    enc.put<uint32_t>(static_cast<uint32_t>(t.info.dims.size()));
    for (uint64_t d : t.info.dims) enc.put<uint64_t>(d);
    enc.put<uint32_t>(t.info.type);
    enc.put<uint64_t>(offset);
    offset += t.info.nbytes() + padding_for(t.info.nbytes(), align);
  }
  // As llama.cpp's vocabulary files do, a file without tensors ends right after the metadata.
  if (!tensors_.empty()) enc.pad_to(align);
  return out;
}

std::vector<std::byte> Writer::serialize() const {
  std::vector<std::byte> out = encode_header();
  const uint64_t align = alignment();
  for (const auto& t : tensors_) {
    const auto bytes = t.bytes();
    out.insert(out.end(), bytes.begin(), bytes.end());
    out.resize(out.size() + padding_for(bytes.size(), align), std::byte{0});
  }
  return out;
}

void Writer::write(const std::filesystem::path& path) const {
  const std::vector<std::byte> header = encode_header();
  const uint64_t align = alignment();
  AtomicFile file(path);
  file.write(header.data(), header.size());
  for (const auto& t : tensors_) {
    const auto bytes = t.bytes();
    file.write(bytes.data(), bytes.size());
    file.write_zeros(padding_for(bytes.size(), align));
  }
  file.commit();
}

}  // namespace slmtune::gguf
