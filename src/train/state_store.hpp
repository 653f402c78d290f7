#pragma once
// The memory that holds optimizer state: ordinary RAM, or ("paged") a file-backed shared memory map,
// so the kernel can write cold pages out to disk and a run whose state would not fit in RAM still
// runs. Both hand out one contiguous, zero-initialised byte region.
#include <cstddef>
#include <filesystem>
#include <vector>

namespace slmtune::train {

class StateStore {
 public:
  // `paged_file` empty: RAM. Otherwise the file is created (replacing an old one) at `bytes` and
  // removed again when the store goes away.
  StateStore(size_t bytes, const std::filesystem::path& paged_file = {});
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool paged() const { return mapped_; }

 private:
  std::vector<std::byte> ram_;
  std::filesystem::path file_;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace slmtune::train
