#include "train/loss_plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.hpp"

namespace slmtune::train {
namespace {

constexpr double kWidth = 720, kHeight = 420;
constexpr double kLeft = 70, kRight = 20, kTop = 40, kBottom = 60;
const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string tick_label(double v, double spacing) {
  // As many decimals as the spacing needs, so 0.25-spaced ticks do not all read "0.2".
  const int decimals = spacing >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(spacing) - 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!(high > low)) high = low + 1;
  const double raw = (high - low) / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double spacing = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      spacing = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::floor(low / spacing) * spacing; t <= high + spacing * 1e-9; t += spacing) {
    if (t >= low - spacing * 1e-9) ticks.push_back(std::abs(t) < spacing * 1e-9 ? 0.0 : t);
    if (ticks.size() > 50) break;
  }
  return ticks;
}

std::string loss_plot_svg(const std::vector<PlotSeries>& series, const std::string& title) {
  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x_min = std::min(x_min, x), x_max = std::max(x_max, x);
      y_min = std::min(y_min, y), y_max = std::max(y_max, y);
    }
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  x_min = std::min(x_min, 0.0);
  if (x_max <= x_min) x_max = x_min + 1;
  if (y_max - y_min < 1e-9) y_min -= 0.5, y_max += 0.5;
  const auto x_ticks = nice_ticks(x_min, x_max);
  const auto y_ticks = nice_ticks(y_min, y_max);
  // Axes span the ticks so every tick sits on the axis.
  x_min = std::min(x_min, x_ticks.front()), x_max = std::max(x_max, x_ticks.back());
  y_min = std::min(y_min, y_ticks.front()), y_max = std::max(y_max, y_ticks.back());
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * plot_w; };
  const auto py = [&](double y) { return kTop + (1 - (y - y_min) / (y_max - y_min)) * plot_h; };

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{3}</text>\n",
      kWidth, kHeight, kWidth / 2, escape(title));
  // Grid, ticks and tick labels.
  const double x_spacing = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  const double y_spacing = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  svg += "<g class=\"x-ticks\" stroke=\"#ddd\">\n";
  for (double t : x_ticks)
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/>\n", px(t), kTop, kTop + plot_h + 5);
  svg += "</g>\n<g class=\"y-ticks\" stroke=\"#ddd\">\n";
  for (double t : y_ticks)
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\"/>\n", kLeft - 5, py(t), kLeft + plot_w);
  svg += "</g>\n<g class=\"tick-labels\" fill=\"#333\">\n";
  for (double t : x_ticks)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(t), kTop + plot_h + 20,
                       tick_label(t, x_spacing));
  for (double t : y_ticks)
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 8, py(t) + 4,
                       tick_label(t, y_spacing));
  svg += "</g>\n";
  // Axes and their labels.
  svg += fmt::format(
      "<g class=\"axes\" stroke=\"black\">\n<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\"/>\n</g>\n"
      "<text x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">step</text>\n"
      "<text x=\"18\" y=\"{6}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {6})\">loss</text>\n",
      kLeft, kTop, kTop + plot_h, kLeft + plot_w, kLeft + plot_w / 2, kHeight - 15, kTop + plot_h / 2);
  // Series and legend.
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kColors[i % std::size(kColors)];
    std::string points;
    for (const auto& [x, y] : series[i].points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", px(x), py(y));
    }
    svg += fmt::format("<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n",
                       escape(series[i].name), color, points);
    const double ly = kTop + 10 + 18 * static_cast<double>(i);
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"2\"/>"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        kLeft + plot_w - 120, ly, kLeft + plot_w - 100, color, kLeft + plot_w - 95, ly + 4, escape(series[i].name));
  }
  svg += "</svg>\n";
  return svg;
}

void write_loss_plot(const std::filesystem::path& path, const std::vector<LogEntry>& history) {
  PlotSeries train{"train", {}}, validation{"validation", {}};
  for (const auto& e : history) {
    if (e.has_train) train.points.emplace_back(static_cast<double>(e.step), e.loss);
    if (const auto it = e.eval.find("eval_loss"); it != e.eval.end())
      validation.points.emplace_back(static_cast<double>(e.step), it->second);
  }
  std::vector<PlotSeries> series{train};
  if (!validation.points.empty()) series.push_back(validation);
  write_file_atomically(path, loss_plot_svg(series, "Loss"));
}

}  // namespace slmtune::train
