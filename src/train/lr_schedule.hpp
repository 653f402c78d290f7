#pragma once
// Learning-rate schedules with the formulas of Hugging Face's get_*_schedule_with_warmup
// (transformers.optimization), so a run here and a run there see the same rate at every step.
// The multiplier is evaluated at the 0-based count of optimizer steps already taken, as the
// LambdaLR that HF builds does: step 0 uses factor(0), which is 0 during a warmup.
#include <cstdint>
#include <string>

namespace slmtune::train {

enum class ScheduleKind { constant, linear, cosine };

ScheduleKind parse_schedule_kind(const std::string& name);  // "constant", "linear", "cosine"
std::string schedule_kind_name(ScheduleKind kind);

// HF TrainingArguments.get_warmup_steps: an explicit step count wins over a ratio; a ratio of the
// total steps is rounded up.
int64_t warmup_steps_for(int64_t total_steps, int64_t warmup_steps, double warmup_ratio);

class LrSchedule {
 public:
  LrSchedule(ScheduleKind kind, double base_lr, int64_t warmup_steps, int64_t total_steps);
  // The multiplier of base_lr after `step` optimizer steps.
  double factor(int64_t step) const;
  double lr(int64_t step) const { return base_lr_ * factor(step); }

 private:
  ScheduleKind kind_;
  double base_lr_;
  int64_t warmup_;
  int64_t total_;
};

}  // namespace slmtune::train
