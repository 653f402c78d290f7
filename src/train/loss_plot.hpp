#pragma once
// loss.svg: train and validation loss against the optimizer step, as a hand-written SVG (no plotting
// dependency): axes with "nice" ticks (1, 2 or 5 × 10^k) and labels, one polyline per series
// (class "train" / "validation", one x,y pair per logged point) and a legend.
#include <filesystem>
#include <string>
#include <vector>

#include "train/metrics_log.hpp"

namespace slmtune::train {

struct PlotSeries {
  std::string name;  // "train", "validation"
  std::vector<std::pair<double, double>> points;  // (step, loss); non-finite losses are skipped
};

// Tick positions covering [low, high] at a 1/2/5 × 10^k spacing, about `target` of them.
std::vector<double> nice_ticks(double low, double high, int target = 5);

std::string loss_plot_svg(const std::vector<PlotSeries>& series, const std::string& title);
// The train loss and eval_loss of a run's history, written atomically to `path`.
void write_loss_plot(const std::filesystem::path& path, const std::vector<LogEntry>& history);

}  // namespace slmtune::train
