#pragma once
// Diagnostics go to stderr so that stdout carries only a command's result (ids, JSON, rendered text).
#include <fmt/format.h>

#include <cstdio>

namespace slmtune::log {

enum class Level { quiet = 0, warn = 1, info = 2, debug = 3 };

Level level();
void set_level(Level level);

template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (level() >= Level::warn) fmt::print(stderr, "warning: {}\n", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (level() >= Level::info) fmt::print(stderr, "{}\n", fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (level() >= Level::debug) fmt::print(stderr, "debug: {}\n", fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace slmtune::log
