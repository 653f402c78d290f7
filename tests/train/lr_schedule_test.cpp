// Values computed by hand from transformers.optimization's lambdas (lr_lambda(current_step)).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "train/lr_schedule.hpp"

using namespace slmtune::train;

TEST(LrSchedule, ConstantWithWarmup) {
  LrSchedule s(ScheduleKind::constant, 2e-4, 4, 100);
  EXPECT_DOUBLE_EQ(s.factor(0), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(1), 0.25);
  EXPECT_DOUBLE_EQ(s.factor(3), 0.75);
  EXPECT_DOUBLE_EQ(s.factor(4), 1.0);
  EXPECT_DOUBLE_EQ(s.lr(50), 2e-4);
  LrSchedule plain(ScheduleKind::constant, 1e-3, 0, 0);
  EXPECT_DOUBLE_EQ(plain.factor(0), 1.0);
}

TEST(LrSchedule, LinearWithWarmup) {
  // warmup 10 of 110: decay (110 - step) / 100.
  LrSchedule s(ScheduleKind::linear, 1.0, 10, 110);
  EXPECT_DOUBLE_EQ(s.factor(5), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(10), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(35), 0.75);
  EXPECT_DOUBLE_EQ(s.factor(110), 0.0);
  EXPECT_DOUBLE_EQ(s.factor(200), 0.0);  // clamped, never negative
}

TEST(LrSchedule, CosineWithWarmup) {
  // warmup 2 of 12: progress = (step - 2) / 10; factor = 0.5 (1 + cos(pi progress)).
  LrSchedule s(ScheduleKind::cosine, 1.0, 2, 12);
  EXPECT_DOUBLE_EQ(s.factor(1), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(2), 1.0);
  EXPECT_NEAR(s.factor(7), 0.5, 1e-15);                                                   // half way
  EXPECT_NEAR(s.factor(4), 0.5 * (1.0 + std::cos(std::numbers::pi * 0.2)), 1e-15);        // 0.904508…
  EXPECT_NEAR(s.factor(4), 0.9045084971874737, 1e-15);
  EXPECT_NEAR(s.factor(12), 0.0, 1e-15);
}

TEST(LrSchedule, WarmupRatioRoundsUpAndStepsWin) {
  EXPECT_EQ(warmup_steps_for(1000, 0, 0.03), 30);
  EXPECT_EQ(warmup_steps_for(101, 0, 0.1), 11);  // ceil(10.1)
  EXPECT_EQ(warmup_steps_for(101, 7, 0.1), 7);
  EXPECT_THROW(warmup_steps_for(10, 0, 1.5), slmtune::Error);
  EXPECT_THROW(parse_schedule_kind("cosin"), slmtune::Error);
  EXPECT_THROW(LrSchedule(ScheduleKind::linear, 1.0, 0, 0), slmtune::Error);
}
