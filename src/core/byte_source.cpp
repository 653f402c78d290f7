#include "core/byte_source.hpp"

#include <cstring>

#include "core/mapped_file.hpp"

namespace slmtune {

ByteSource ByteSource::map(const std::filesystem::path& path) {
  auto mapped = MappedFile::open(path);
  const std::byte* data = mapped->data();
  const size_t size = mapped->size();
  return {std::move(mapped), data, size};
}

ByteSource ByteSource::copy(std::span<const std::byte> bytes) {
  auto storage = std::shared_ptr<std::byte[]>(new std::byte[bytes.empty() ? 1 : bytes.size()]);
  if (!bytes.empty()) std::memcpy(storage.get(), bytes.data(), bytes.size());
  const std::byte* data = storage.get();
  return {std::shared_ptr<const void>(storage, data), data, bytes.size()};
}

}  // namespace slmtune
