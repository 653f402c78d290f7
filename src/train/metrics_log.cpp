#include "train/metrics_log.hpp"

#include <cmath>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace slmtune::train {
namespace {

// JSON has no NaN or infinity; a non-finite value is written as null and read back as NaN.
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

double read_number(const Json& json, const char* key, const std::string& origin) {
  const auto it = json.find(key);
  if (it == json.end()) fail("{}: missing '{}'", origin, key);
  if (it->is_null()) return NAN;
  if (!it->is_number()) fail("{}: '{}': expected a number", origin, key);
  return it->get<double>();
}

}  // namespace

Json log_entry_to_json(const LogEntry& entry) {
  Json out = Json::object();
  out["step"] = entry.step;
  out["epoch"] = number(entry.epoch);
  if (entry.has_train) {
    out["loss"] = number(entry.loss);
    out["lr"] = number(entry.lr);
    out["grad_norm"] = number(entry.grad_norm);
    out["tokens_per_s"] = number(entry.tokens_per_s);
  }
  for (const auto& [name, value] : entry.eval) out[name] = number(value);
  return out;
}

LogEntry log_entry_from_json(const Json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: expected a JSON object", origin);
  LogEntry e;
  const auto step = json.find("step");
  if (step == json.end() || !step->is_number_integer()) fail("{}: 'step': expected an integer", origin);
  e.step = step->get<int64_t>();
  e.epoch = read_number(json, "epoch", origin);
  e.has_train = json.contains("loss");
  if (e.has_train) {
    e.loss = read_number(json, "loss", origin);
    e.lr = read_number(json, "lr", origin);
    e.grad_norm = read_number(json, "grad_norm", origin);
    e.tokens_per_s = read_number(json, "tokens_per_s", origin);
  }
  for (const auto& [key, value] : json.items())
    if (key.rfind("eval_", 0) == 0) e.eval[key] = read_number(json, key.c_str(), origin);
  return e;
}

void write_metrics_jsonl(const std::filesystem::path& path, const std::vector<LogEntry>& history) {
  std::string text;
  for (const auto& entry : history) text += log_entry_to_json(entry).dump() + "\n";
  write_file_atomically(path, text);
}

std::vector<LogEntry> read_metrics_jsonl(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  std::vector<LogEntry> out;
  size_t line = 0, begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line;
    const std::string_view row(text.data() + begin, end - begin);
    const std::string origin = fmt::format("{}:{}", path.string(), line);
    if (!row.empty()) out.push_back(log_entry_from_json(parse_json(row, origin), origin));
    begin = end + 1;
  }
  return out;
}

}  // namespace slmtune::train
