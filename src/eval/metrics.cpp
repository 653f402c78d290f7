#include "eval/metrics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

namespace slmtune::eval {
namespace {

Json fraction_json(const Tally& tally) {
  return tally.total == 0 ? Json(nullptr) : Json(tally.fraction());
}

std::string fraction_cell(const Tally& tally) {
  if (tally.total == 0) return "-";
  return fmt::format("{:.3f}  ({}/{})", tally.fraction(), tally.correct, tally.total);
}

double per_query(double total, int64_t n) { return n == 0 ? 0.0 : total / static_cast<double>(n); }

// Display width of a UTF-8 string (one column per code point: the labels are Latin text).
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string pad(const std::string& s, size_t width) {
  size_t w = columns(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

}  // namespace

double Tally::fraction() const {
  return total == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(correct) / static_cast<double>(total);
}

void EvalMetrics::add(const TurnScore& score, const QueryCost& cost, const std::string& confusion_argument_name) {
  ++n;
  exact_match.add(score.exact_match);
  json_valid.add(score.json_valid);
  if (score.expects_call) name_accuracy.add(score.names_match);
  else no_call_accuracy.add(!score.attempted_call);
  for (const auto& argument : score.arguments) {
    argument_accuracy.add(argument.correct);
    argument_accuracy_by_name[argument.name].add(argument.correct);
  }
  if (score.has_confusion) {
    confusion_argument = confusion_argument_name;
    ++confusion[score.expected_label][score.predicted_label];
  }
  seconds += cost.seconds;
  prompt_tokens += cost.prompt_tokens;
  generated_tokens += cost.generated_tokens;
}

double EvalMetrics::latency_ms_per_query() const { return per_query(seconds * 1000.0, n); }
double EvalMetrics::prompt_tokens_per_query() const { return per_query(static_cast<double>(prompt_tokens), n); }
double EvalMetrics::generated_tokens_per_query() const { return per_query(static_cast<double>(generated_tokens), n); }

Json metrics_to_json(const EvalMetrics& m) {
  Json out = Json::object();
  out["exact_match"] = fraction_json(m.exact_match);
  out["name_accuracy"] = fraction_json(m.name_accuracy);
  out["argument_accuracy"] = fraction_json(m.argument_accuracy);
  out["json_valid"] = fraction_json(m.json_valid);
  out["no_call_accuracy"] = fraction_json(m.no_call_accuracy);
  out["n"] = m.n;
  Json by_name = Json::object();
  for (const auto& [name, tally] : m.argument_accuracy_by_name) by_name[name] = fraction_json(tally);
  out["argument_accuracy_by_name"] = std::move(by_name);
  Json counts = Json::object();
  const std::pair<const char*, const Tally*> tallies[] = {
      {"exact_match", &m.exact_match}, {"name_accuracy", &m.name_accuracy}, {"argument_accuracy", &m.argument_accuracy},
      {"json_valid", &m.json_valid}, {"no_call_accuracy", &m.no_call_accuracy}};
  for (const auto& [name, tally] : tallies) counts[name] = Json{{"correct", tally->correct}, {"total", tally->total}};
  out["counts"] = std::move(counts);
  if (!m.confusion_argument.empty()) {
    Json matrix = Json::object();
    for (const auto& [expected, row] : m.confusion) {
      Json cells = Json::object();
      for (const auto& [predicted, count] : row) cells[predicted] = count;
      matrix[expected] = std::move(cells);
    }
    out["confusion"] = Json{{"argument", m.confusion_argument}, {"expected_predicted", std::move(matrix)}};
  } else {
    out["confusion"] = nullptr;
  }
  out["latency_ms_per_query"] = m.latency_ms_per_query();
  out["prompt_tokens_per_query"] = m.prompt_tokens_per_query();
  out["generated_tokens_per_query"] = m.generated_tokens_per_query();
  return out;
}

std::map<std::string, double> metrics_to_map(const EvalMetrics& m) {
  std::map<std::string, double> out;
  const std::pair<const char*, const Tally*> tallies[] = {
      {"exact_match", &m.exact_match}, {"name_accuracy", &m.name_accuracy}, {"argument_accuracy", &m.argument_accuracy},
      {"json_valid", &m.json_valid}, {"no_call_accuracy", &m.no_call_accuracy}};
  for (const auto& [name, tally] : tallies)
    if (tally->total > 0) out[name] = tally->fraction();
  out["n"] = static_cast<double>(m.n);
  return out;
}

std::string metrics_table(const EvalMetrics& m) {
  std::string out;
  const size_t w = 26;
  out += pad("metric", w) + "value\n";
  out += pad("exact_match", w) + fraction_cell(m.exact_match) + "\n";
  out += pad("name_accuracy", w) + fraction_cell(m.name_accuracy) + "\n";
  out += pad("argument_accuracy", w) + fraction_cell(m.argument_accuracy) + "\n";
  for (const auto& [name, tally] : m.argument_accuracy_by_name) out += pad("  " + name, w) + fraction_cell(tally) + "\n";
  out += pad("json_valid", w) + fraction_cell(m.json_valid) + "\n";
  out += pad("no_call_accuracy", w) + fraction_cell(m.no_call_accuracy) + "\n";
  out += pad("n", w) + fmt::format("{}", m.n) + "\n";
  out += pad("latency", w) + fmt::format("{:.1f} ms/query", m.latency_ms_per_query()) + "\n";
  out += pad("prompt tokens", w) + fmt::format("{:.1f} /query", m.prompt_tokens_per_query()) + "\n";
  out += pad("generated tokens", w) + fmt::format("{:.1f} /query", m.generated_tokens_per_query()) + "\n";
  if (m.confusion_argument.empty()) return out;

  std::set<std::string> labels;
  for (const auto& [expected, row] : m.confusion) {
    labels.insert(expected);
    for (const auto& [predicted, count] : row) labels.insert(predicted);
  }
  std::vector<std::string> order(labels.begin(), labels.end());
  const std::string corner = "expected \\ predicted";
  size_t first = columns(corner);
  for (const auto& l : order) first = std::max(first, columns(l));
  out += fmt::format("\n{} confusion (rows: expected, columns: predicted)\n", m.confusion_argument);
  // Cells are padded to their column's width, except the last one of a line.
  auto cell = [&](std::string& line, const std::string& text, size_t column) {
    line += column + 1 < order.size() ? pad(text, std::max<size_t>(columns(order[column]), 5) + 2) : text;
  };
  std::string header = pad(corner, first + 2);
  for (size_t c = 0; c < order.size(); ++c) cell(header, order[c], c);
  out += header + "\n";
  for (const auto& expected : order) {
    auto row = m.confusion.find(expected);
    if (row == m.confusion.end()) continue;
    std::string line = pad(expected, first + 2);
    for (size_t c = 0; c < order.size(); ++c) {
      auto it = row->second.find(order[c]);
      cell(line, fmt::format("{}", it == row->second.end() ? 0 : it->second), c);
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace slmtune::eval
