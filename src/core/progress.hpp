#pragma once
// Progress of a long loop (training, evaluation, pretraining) on stderr. On a terminal: one line
// redrawn in place — a bar, done/total, the caller's fields (loss, lr, tokens/s …) and the ETA.
// Elsewhere (a log file, a pipe, CI): nothing is redrawn; only the whole lines the caller prints
// through line() appear, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <string>

namespace slmtune {

class Progress {
 public:
  enum class Mode { automatic, terminal, plain, silent };
  // `total` > 0 units of work (steps); automatic = terminal when stderr is a terminal.
  Progress(std::string label, int64_t total, Mode mode = Mode::automatic);
  ~Progress();  // ends a drawn bar with a newline
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` units finished (the ETA counts from the first update's `done`, so a resumed run's ETA
  // is not skewed by the steps it skipped); `fields` e.g. "loss 1.234 | lr 2.0e-04".
  void update(int64_t done, const std::string& fields = {});
  // A whole log line: printed above the bar on a terminal, as it is elsewhere (not when silent).
  void line(const std::string& text);
  void finish();
  bool terminal() const { return mode_ == Mode::terminal; }

  // "1h02m", "3m07s", "12s".
  static std::string format_duration(double seconds);
  // The redrawn line for a width of `columns` characters (tests check it without a terminal).
  static std::string render(const std::string& label, int64_t done, int64_t total, const std::string& fields,
                            double eta_seconds, int columns);

 private:
  void draw();
  void clear();

  std::string label_;
  int64_t total_;
  Mode mode_;
  int64_t done_ = 0, first_done_ = -1;
  std::string fields_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false, finished_ = false;
};

}  // namespace slmtune
