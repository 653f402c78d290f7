#pragma once
// safetensors: an 8-byte little-endian header length, a JSON header mapping tensor names to dtype,
// shape and byte range, then the raw data. Spec: shared/testdata/docs/safetensors-README.md.
// Every header is validated on open, so a tensor view can never point outside the file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace slmtune::safetensors {

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // data_offsets, relative to the start of the data section
};

// One .safetensors file, memory-mapped.
class File {
 public:
  static File open(const std::filesystem::path& path);
  // Parses an in-memory copy (fuzzing, tests); `name` stands in for the path in errors.
  static File open_bytes(std::span<const std::byte> bytes, const std::filesystem::path& name = "<memory>");

  const std::vector<TensorEntry>& tensors() const { return tensors_; }  // in order of data offsets
  const TensorEntry* find(std::string_view name) const;
  Tensor tensor(std::string_view name) const;  // zero-copy view; every safetensors dtype
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }
  uint64_t header_size() const { return header_size_; }

 private:
  std::filesystem::path path_;
  std::shared_ptr<const void> owner_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t header_size_ = 0;
  std::vector<TensorEntry> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::pair<std::string, std::string>> metadata_;

  static File parse(std::filesystem::path path, std::shared_ptr<const void> owner, const std::byte* data,
                    uint64_t size);
};

// A whole model: a directory with model.safetensors or model.safetensors.index.json (+ shards), or
// one file.
class Model {
 public:
  static Model open(const std::filesystem::path& dir_or_file);
  struct Entry {
    const TensorEntry* entry;
    const File* file;
  };
  std::vector<std::string> names() const;  // shard order, then file order within a shard
  const TensorEntry* find(std::string_view name) const;
  Tensor tensor(std::string_view name) const;
  size_t file_count() const { return files_.size(); }
  // The first shard's __metadata__ (or the index's "metadata" when the shards have none).
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const File& file(size_t i) const { return *files_.at(i); }

 private:
  std::vector<std::unique_ptr<File>> files_;  // stable addresses for Entry
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::filesystem::path origin_;
};

class Writer {
 public:
  void set_metadata(std::string key, std::string value);
  void add(std::string name, const Tensor& tensor);
  // Atomic; header JSON padded with spaces to a multiple of 8; tensors sorted by name and their data
  // laid out in that order, so equal inputs give identical files.
  void write(const std::filesystem::path& path) const;
  std::vector<std::byte> serialize() const;

 private:
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
};

}  // namespace slmtune::safetensors
