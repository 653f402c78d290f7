#pragma once
// A read-only memory map of a whole file. Model weights are used straight from the map, so opening a
// multi-gigabyte model costs only the pages actually touched.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace slmtune {

class MappedFile {
 public:
  // Throws slmtune::Error naming the path when the file is missing or cannot be mapped.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace slmtune
