#pragma once
// One error type for every bad input: its message is the single line the user sees, naming the
// file, the place in it and what was expected.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace slmtune {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace slmtune
