// loss.svg's axes (ticks at 1/2/5 × 10^k covering the data) and series, and metrics.jsonl's lines.
#include <gtest/gtest.h>

#include <cmath>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "support/test_support.hpp"
#include "train/loss_plot.hpp"
#include "train/metrics_log.hpp"

using namespace slmtune::train;
using slmtune::testing::TempDir;

TEST(LossPlot, NiceTicksCoverTheRangeAtRoundSpacings) {
  EXPECT_EQ(nice_ticks(0, 100), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(nice_ticks(0, 7), (std::vector<double>{0, 2, 4, 6}));
  const auto small = nice_ticks(0.31, 0.92);
  ASSERT_FALSE(small.empty());
  EXPECT_NEAR(small.front(), 0.4, 1e-12);  // range 0.61 / 5 targets → spacing 0.2
  EXPECT_NEAR(small[1] - small[0], 0.2, 1e-12);
  EXPECT_LE(small.back(), 0.92);
  EXPECT_EQ(nice_ticks(5, 5).size(), 6u);  // an empty range still gets an axis
}

TEST(LossPlot, OnePointPerFiniteLossAndLabelledAxes) {
  std::vector<LogEntry> history;
  for (int step = 1; step <= 5; ++step) {
    LogEntry e;
    e.step = step;
    e.has_train = true;
    e.loss = step == 3 ? NAN : 6.0 / step;  // a non-finite loss is skipped, not drawn
    if (step % 2 == 0) e.eval["eval_loss"] = 5.0 / step;
    history.push_back(e);
  }
  TempDir dir;
  write_loss_plot(dir / "loss.svg", history);
  const std::string svg = slmtune::read_file(dir / "loss.svg");
  const auto points = [&](const std::string& cls) {
    const size_t at = svg.find("class=\"" + cls + "\"");
    EXPECT_NE(at, std::string::npos) << cls;
    const size_t begin = svg.find("points=\"", at) + 8;
    const std::string list = svg.substr(begin, svg.find('"', begin) - begin);
    return std::count(list.begin(), list.end(), ',');
  };
  EXPECT_EQ(points("train"), 4);
  EXPECT_EQ(points("validation"), 2);
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(MetricsLog, LinesRoundTripAndNonFiniteIsNull) {
  LogEntry e;
  e.step = 7;
  e.epoch = 0.5;
  e.has_train = true;
  e.loss = 1.25;
  e.lr = 2e-4;
  e.grad_norm = INFINITY;
  e.tokens_per_s = 1000;
  e.eval["eval_loss"] = 1.5;
  const slmtune::Json json = log_entry_to_json(e);
  EXPECT_EQ(json.dump(), R"({"step":7,"epoch":0.5,"loss":1.25,"lr":0.0002,"grad_norm":null,"tokens_per_s":1000.0,"eval_loss":1.5})");
  const LogEntry back = log_entry_from_json(json, "x");
  EXPECT_EQ(back.step, 7);
  EXPECT_TRUE(std::isnan(back.grad_norm));
  EXPECT_EQ(back.eval.at("eval_loss"), 1.5);

  TempDir dir;
  slmtune::testing::write_text(dir / "m.jsonl", "{\"step\": 1, \"epoch\": 0.1}\n{\"step\": \"two\", \"epoch\": 0.2}\n");
  try {
    read_metrics_jsonl(dir / "m.jsonl");
    FAIL();
  } catch (const slmtune::Error& error) {
    EXPECT_NE(std::string(error.what()).find("m.jsonl:2"), std::string::npos) << error.what();
  }
}
