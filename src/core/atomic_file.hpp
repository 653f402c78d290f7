#pragma once
// Files are written to a temporary name beside the target and renamed into place only when complete,
// so an interrupted run never leaves a half-written model, adapter or checkpoint behind.
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace slmtune {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void write_zeros(size_t count);
  size_t written() const { return written_; }
  // Flushes to disk and renames onto the target path.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  std::FILE* stream_ = nullptr;
  size_t written_ = 0;
  bool committed_ = false;
};

void write_file_atomically(const std::filesystem::path& path, std::string_view contents);
std::string read_file(const std::filesystem::path& path);

}  // namespace slmtune
