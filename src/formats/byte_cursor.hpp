#pragma once
// A little-endian reader over a byte buffer that checks every read against the bytes left, so a
// parser built on it can never read past the end whatever a file's counts and lengths claim.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace slmtune::formats {

class ByteCursor {
 public:
  // `origin` names the buffer (a path) in errors.
  ByteCursor(const std::byte* data, uint64_t size, const std::string& origin)
      : data_(data), size_(size), origin_(origin) {}

  uint64_t position() const { return position_; }
  uint64_t remaining() const { return size_ - position_; }
  const std::string& origin() const { return origin_; }

  // Fails unless `count` more bytes are there; `what` names the field being read.
  void require(uint64_t count, std::string_view what) const {
    if (count > remaining())
      fail("{}: truncated at offset {}: {} needs {} bytes but only {} remain", origin_, position_, what, count,
           remaining());
  }

  template <class T>
  T read(std::string_view what) {
    require(sizeof(T), what);
    T value;
    std::memcpy(&value, data_ + position_, sizeof(T));  // the files are little-endian, as is every host we build for
    position_ += sizeof(T);
    return value;
  }

  // `count` raw bytes as a view into the buffer.
  std::string_view read_bytes(uint64_t count, std::string_view what) {
    require(count, what);
    std::string_view out(reinterpret_cast<const char*>(data_ + position_), static_cast<size_t>(count));
    position_ += count;
    return out;
  }

 private:
  const std::byte* data_;
  uint64_t size_;
  uint64_t position_ = 0;
  const std::string& origin_;
};

}  // namespace slmtune::formats
