#pragma once
// Bytes a file parser reads, with whatever keeps them alive: a memory map of a file, or a private copy
// of bytes given in memory (tests, fuzzers). Parsers of every format take one, so each format's
// open-a-file and open-these-bytes entry points share one body.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace slmtune {

struct ByteSource {
  std::shared_ptr<const void> owner;
  const std::byte* data = nullptr;
  size_t size = 0;

  // Throws slmtune::Error naming the path when the file is missing or cannot be mapped.
  static ByteSource map(const std::filesystem::path& path);
  // The copy comes from operator new, aligned to at least 16 bytes, so aligned offsets inside it stay
  // aligned (GGUF tensor data).
  static ByteSource copy(std::span<const std::byte> bytes);
};

}  // namespace slmtune
