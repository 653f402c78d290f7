// Reading and writing single .safetensors files. The header is JSON (through nlohmann); every field is
// checked against the schema and every byte range against the data section, which must be covered
// exactly, without holes or overlaps, as the format's README requires.
#include "formats/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/byte_source.hpp"
#include "formats/json.hpp"

namespace slmtune::safetensors {
namespace {

// The reference implementation refuses larger headers, so no valid file has one.
constexpr uint64_t kMaxHeaderSize = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";

uint64_t read_u64_le(const std::byte* p) {
  uint64_t value;
  std::memcpy(&value, p, 8);
  return value;
}

// ordered_json keeps only the last of two equal keys, so duplicates are caught while parsing.
std::string first_duplicate_top_level_key(std::string_view text) {
  std::set<std::string, std::less<>> seen;
  std::string duplicate;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, Json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && duplicate.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return event == nlohmann::json::parse_event_t::key;  // only the names are needed: discard the values
  };
  const Json discarded = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  return duplicate;
}

uint64_t json_size(const Json& value, const std::string& where, std::string_view field) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) fail("{}: {} has a negative value {}", where, field, value.dump());
  fail("{}: {} must be a non-negative integer, found {}", where, field, value.dump());
}

TensorEntry parse_entry(const std::string& name, const Json& info, const std::string& origin) {
  const std::string where = fmt::format("{}: tensor '{}'", origin, name);
  if (!info.is_object()) fail("{} must be an object with dtype, shape and data_offsets", where);
  for (const auto& [field, _] : info.items())
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      fail("{}: unexpected field '{}' (only dtype, shape and data_offsets are allowed)", where, field);
  TensorEntry entry;
  entry.name = name;

  const auto dtype_it = info.find("dtype");
  if (dtype_it == info.end() || !dtype_it->is_string()) fail("{}: missing string field 'dtype'", where);
  const auto& dtype_name_text = dtype_it->get_ref<const std::string&>();
  const auto dtype = dtype_from_name(dtype_name_text);
  if (!dtype) fail("{}: unknown dtype '{}'", where, dtype_name_text);
  entry.dtype = *dtype;

  const auto shape_it = info.find("shape");
  if (shape_it == info.end() || !shape_it->is_array()) fail("{}: missing array field 'shape'", where);
  // The product of the non-zero dimensions must fit int64, so that the element count cannot overflow
  // in whatever order it is multiplied (a zero dimension alone does not make it safe).
  uint64_t numel = 1, nonzero_product = 1;
  for (const auto& dim_json : *shape_it) {
    const uint64_t dim = json_size(dim_json, where, "a shape dimension");
    if (__builtin_mul_overflow(nonzero_product, dim == 0 ? 1 : dim, &nonzero_product) ||
        nonzero_product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("{}: shape {} overflows 64 bits", where, shape_it->dump());
    numel *= dim;
    entry.shape.push_back(static_cast<int64_t>(dim));
  }

  const auto offsets_it = info.find("data_offsets");
  if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2)
    fail("{}: 'data_offsets' must be an array [begin, end]", where);
  entry.begin = json_size((*offsets_it)[0], where, "data_offsets");
  entry.end = json_size((*offsets_it)[1], where, "data_offsets");
  if (entry.end < entry.begin)
    fail("{}: data_offsets [{}, {}] end before they begin", where, entry.begin, entry.end);

  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(entry.dtype)), &nbytes))
    fail("{}: shape {} overflows 64 bits", where, shape_it->dump());
  if (nbytes != entry.end - entry.begin)
    fail("{}: shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", where, shape_string(entry.shape),
         dtype_name(entry.dtype), nbytes, entry.begin, entry.end, entry.end - entry.begin);
  return entry;
}

}  // namespace

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

  if (size < 8) fail("{}: not a safetensors file: {} bytes, too short for the 8-byte header length", origin, size);
  const uint64_t header_size = read_u64_le(data);
  if (header_size > size - 8)
    fail("{}: header length {} (offset 0) goes beyond the end of the file ({} bytes)", origin, header_size, size);
  if (header_size > kMaxHeaderSize)
    fail("{}: header length {} is over the {}-byte limit", origin, header_size, kMaxHeaderSize);
  file.header_size_ = header_size;
  const std::string_view text(reinterpret_cast<const char*>(data + 8), static_cast<size_t>(header_size));
  if (text.empty() || text.front() != '{')
    fail("{}: header (offset 8) must be a JSON object starting with '{{'", origin);
  const Json header = parse_json(text, origin + " header");
  if (!header.is_object()) fail("{}: header is not a JSON object", origin);
  if (const std::string duplicate = first_duplicate_top_level_key(text); !duplicate.empty())
    fail("{}: header names '{}' twice", origin, duplicate);

  const uint64_t data_size = size - 8 - header_size;
  for (const auto& [name, info] : header.items()) {
    if (name == kMetadataKey) {
      if (!info.is_object()) fail("{}: __metadata__ must be an object of strings", origin);
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string())
          fail("{}: __metadata__ '{}' must be a string, found {}", origin, key, value.dump());
        file.metadata_.emplace_back(key, value.get<std::string>());
      }
      continue;
    }
    TensorEntry entry = parse_entry(name, info, origin);
    if (entry.end > data_size)
      fail("{}: tensor '{}' data_offsets [{}, {}] go beyond the data section ({} bytes)", origin, name, entry.begin,
           entry.end, data_size);
    file.tensors_.push_back(std::move(entry));
  }

  std::stable_sort(file.tensors_.begin(), file.tensors_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // The README: "The byte buffer needs to be entirely indexed, and cannot contain holes."
  uint64_t covered = 0;
  const TensorEntry* previous = nullptr;
  for (const auto& entry : file.tensors_) {
    if (entry.begin < covered)
      fail("{}: tensors '{}' and '{}' overlap: data_offsets [{}, {}] begin inside [{}, {}]", origin,
           previous->name, entry.name, entry.begin, entry.end, previous->begin, previous->end);
    if (entry.begin > covered)
      fail("{}: data section has a hole: bytes [{}, {}) before tensor '{}' belong to no tensor", origin, covered,
           entry.begin, entry.name);
    covered = entry.end;
    previous = &entry;
  }
  if (covered != data_size)
    fail("{}: data section has a hole: bytes [{}, {}) after the last tensor belong to no tensor", origin, covered,
         data_size);

  for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
  return file;
}

const TensorEntry* File::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Tensor File::tensor(std::string_view name) const {
  const TensorEntry* entry = find(name);
  if (!entry) fail("{}: no tensor named '{}'", path_.string(), name);
  const std::byte* begin = data_ + 8 + header_size_ + entry->begin;
  // A header whose length is not a multiple of 8 leaves the data unaligned for wider element types.
  if (reinterpret_cast<uintptr_t>(begin) % dtype_size(entry->dtype) != 0)
    return Tensor::from_bytes(entry->dtype, entry->shape, {begin, static_cast<size_t>(entry->end - entry->begin)});
  return Tensor::view(entry->dtype, entry->shape, begin, owner_);
}

void Writer::set_metadata(std::string key, std::string value) {
  for (auto& [existing, existing_value] : metadata_) {
    if (existing == key) {
      existing_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::add(std::string name, const Tensor& tensor) {
  if (name == kMetadataKey) fail("safetensors writer: a tensor cannot be named {}", kMetadataKey);
  for (const auto& [existing, _] : tensors_)
    if (existing == name) fail("safetensors writer: tensor '{}' added twice", name);
  tensors_.emplace_back(std::move(name), tensor);
}

namespace {
struct Layout {
  std::string header;  // padded
  std::vector<const std::pair<std::string, Tensor>*> order;
};

Layout layout(const std::vector<std::pair<std::string, std::string>>& metadata,
              const std::vector<std::pair<std::string, Tensor>>& tensors) {
  Layout out;
  for (const auto& t : tensors) out.order.push_back(&t);
  std::sort(out.order.begin(), out.order.end(), [](auto* a, auto* b) { return a->first < b->first; });
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[std::string(kMetadataKey)] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto* t : out.order) {
    const uint64_t nbytes = t->second.nbytes();
    header[t->first] = {{"dtype", std::string(dtype_name(t->second.dtype()))},
                        {"shape", t->second.shape()},
                        {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  out.header = header.dump();
  // Padding the header keeps the data section 8-byte aligned, so every tensor can be viewed in place.
  out.header.append((8 - out.header.size() % 8) % 8, ' ');
  return out;
}
}  // namespace

std::vector<std::byte> Writer::serialize() const {
  const Layout plan = layout(metadata_, tensors_);
  std::vector<std::byte> out(8 + plan.header.size());
  const uint64_t header_size = plan.header.size();
  std::memcpy(out.data(), &header_size, 8);
  std::memcpy(out.data() + 8, plan.header.data(), plan.header.size());
  for (const auto* t : plan.order) {
    const auto bytes = t->second.bytes();
    if (!bytes.empty()) out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

void Writer::write(const std::filesystem::path& path) const {
  const Layout plan = layout(metadata_, tensors_);
  AtomicFile file(path);
  const uint64_t header_size = plan.header.size();
  file.write(&header_size, 8);
  file.write(plan.header);
  for (const auto* t : plan.order) {
    const auto bytes = t->second.bytes();
    if (!bytes.empty()) file.write(bytes.data(), bytes.size());
  }
  file.commit();
}

}  // namespace slmtune::safetensors
