#include "core/log.hpp"

#include <atomic>

namespace slmtune::log {
namespace {
std::atomic<Level> current_level{Level::info};
}
Level level() { return current_level.load(std::memory_order_relaxed); }
void set_level(Level level) { current_level.store(level, std::memory_order_relaxed); }
}  // namespace slmtune::log
