#include "train/state_store.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/error.hpp"

namespace slmtune::train {

StateStore::StateStore(size_t bytes, const std::filesystem::path& paged_file) : size_(bytes) {
  if (paged_file.empty() || bytes == 0) {
    ram_.assign(bytes, std::byte{0});
    data_ = ram_.data();
    return;
  }
  file_ = paged_file;
  const int fd = ::open(file_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) fail("{}: cannot create the paged optimizer state file: {}", file_.string(), std::strerror(errno));
  // A fresh file of this length reads as zeros; the pages exist on disk only once written.
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int err = errno;
    ::close(fd);
    fail("{}: cannot size the paged optimizer state to {} bytes: {}", file_.string(), bytes, std::strerror(err));
  }
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);
  if (map == MAP_FAILED) fail("{}: cannot map the paged optimizer state: {}", file_.string(), std::strerror(err));
  data_ = static_cast<std::byte*>(map);
  mapped_ = true;
}

StateStore::~StateStore() {
  if (!mapped_) return;
  ::munmap(data_, size_);
  std::error_code ignored;
  std::filesystem::remove(file_, ignored);
}

}  // namespace slmtune::train
