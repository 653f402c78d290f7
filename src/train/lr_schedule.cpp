#include "train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace slmtune::train {

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "linear") return ScheduleKind::linear;
  if (name == "cosine") return ScheduleKind::cosine;
  fail("lr schedule '{}': expected constant, linear or cosine", name);
}

std::string schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant: return "constant";
    case ScheduleKind::linear: return "linear";
    case ScheduleKind::cosine: return "cosine";
  }
  return "?";
}

int64_t warmup_steps_for(int64_t total_steps, int64_t warmup_steps, double warmup_ratio) {
  if (warmup_steps < 0) fail("warmup_steps {}: expected a count >= 0", warmup_steps);
  if (!(warmup_ratio >= 0.0 && warmup_ratio <= 1.0)) fail("warmup_ratio {}: expected a value in [0, 1]", warmup_ratio);
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_ratio));
}

LrSchedule::LrSchedule(ScheduleKind kind, double base_lr, int64_t warmup_steps, int64_t total_steps)
    : kind_(kind), base_lr_(base_lr), warmup_(warmup_steps), total_(total_steps) {
  if (warmup_steps < 0) fail("warmup_steps {}: expected a count >= 0", warmup_steps);
  if (kind != ScheduleKind::constant && total_steps <= 0)
    fail("{} lr schedule needs a positive number of training steps, got {}", schedule_kind_name(kind), total_steps);
}

double LrSchedule::factor(int64_t step) const {
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  if (step < warmup_) return d(step) / d(std::max<int64_t>(1, warmup_));
  switch (kind_) {
    case ScheduleKind::constant: return 1.0;
    case ScheduleKind::linear:
      return std::max(0.0, d(total_ - step) / d(std::max<int64_t>(1, total_ - warmup_)));
    case ScheduleKind::cosine: {
      // HF's default num_cycles = 0.5: one half cosine from 1 down to 0 over the decay steps.
      const double progress = d(step - warmup_) / d(std::max<int64_t>(1, total_ - warmup_));
      return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * 2.0 * 0.5 * progress)));
    }
  }
  return 1.0;
}

}  // namespace slmtune::train
