#include "core/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.hpp"

namespace slmtune {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  temporary_ = target_;
  temporary_ += fmt::format(".tmp.{}", ::getpid());
  stream_ = std::fopen(temporary_.c_str(), "wb");
  if (stream_ == nullptr) fail("{}: cannot create: {}", target_.string(), std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (stream_ != nullptr) std::fclose(stream_);
  if (!committed_) {
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }
}

void AtomicFile::write(const void* data, size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, stream_) != size)
    fail("{}: write failed: {}", target_.string(), std::strerror(errno));
  written_ += size;
}

void AtomicFile::write_zeros(size_t count) {
  static const std::vector<char> zeros(4096, 0);
  while (count > 0) {
    const size_t chunk = std::min(count, zeros.size());
    write(zeros.data(), chunk);
    count -= chunk;
  }
}

void AtomicFile::commit() {
  if (std::fflush(stream_) != 0 || ::fsync(::fileno(stream_)) != 0)
    fail("{}: flush failed: {}", target_.string(), std::strerror(errno));
  std::fclose(stream_);
  stream_ = nullptr;
  std::error_code error;
  std::filesystem::rename(temporary_, target_, error);
  if (error) fail("{}: cannot rename into place: {}", target_.string(), error.message());
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  AtomicFile file(path);
  file.write(contents);
  file.commit();
}

std::string read_file(const std::filesystem::path& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) fail("{}: is a directory, expected a file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", path.string(), std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

}  // namespace slmtune
