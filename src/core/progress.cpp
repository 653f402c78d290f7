#include "core/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace slmtune {
namespace {

int terminal_columns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 100;
}

}  // namespace

Progress::Progress(std::string label, int64_t total, Mode mode)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 1)), mode_(mode), start_(std::chrono::steady_clock::now()) {
  if (mode_ == Mode::automatic) mode_ = isatty(STDERR_FILENO) ? Mode::terminal : Mode::plain;
}

Progress::~Progress() { finish(); }

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string Progress::render(const std::string& label, int64_t done, int64_t total, const std::string& fields,
                             double eta_seconds, int columns) {
  const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(std::max<int64_t>(total, 1)), 0.0, 1.0);
  const std::string tail = fmt::format(" {}/{}{}{} | ETA {}", done, total, fields.empty() ? "" : " | ", fields,
                                       format_duration(eta_seconds));
  const std::string head = label.empty() ? "" : label + " ";
  // The bar takes what is left, between 10 and 30 cells.
  const int room = columns - static_cast<int>(head.size() + tail.size()) - 2;
  const int cells = std::clamp(room, 10, 30);
  const int filled = static_cast<int>(std::floor(fraction * cells));
  std::string line = head + "[" + std::string(static_cast<size_t>(filled), '#') +
                     std::string(static_cast<size_t>(cells - filled), '.') + "]" + tail;
  if (static_cast<int>(line.size()) > columns) line.resize(static_cast<size_t>(std::max(columns, 1)));
  return line;
}

void Progress::update(int64_t done, const std::string& fields) {
  if (first_done_ < 0) {
    first_done_ = done;
    start_ = std::chrono::steady_clock::now();
  }
  done_ = done;
  fields_ = fields;
  if (mode_ != Mode::terminal) return;
  // Redrawing more than ~10 times a second only costs time.
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void Progress::draw() {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t progressed = done_ - std::max<int64_t>(first_done_, 0);
  const double eta = progressed > 0 ? elapsed / static_cast<double>(progressed) * static_cast<double>(total_ - done_)
                                    : NAN;
  fmt::print(stderr, "\r\033[2K{}", render(label_, done_, total_, fields_, eta, terminal_columns() - 1));
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::clear() {
  if (drawn_) fmt::print(stderr, "\r\033[2K");
}

void Progress::line(const std::string& text) {
  if (mode_ == Mode::silent) return;
  if (mode_ == Mode::terminal) clear();
  fmt::print(stderr, "{}\n", text);
  if (mode_ == Mode::terminal && drawn_) draw();
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == Mode::terminal && drawn_) {
    fmt::print(stderr, "\n");
    std::fflush(stderr);
  }
}

}  // namespace slmtune
