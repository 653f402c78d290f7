#include "train/checkpoint.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace slmtune::train {
namespace {

constexpr const char* kStateFile = "trainer_state.json";
constexpr const char* kTemporaryPrefix = ".partial-checkpoint-";

template <class T>
T get(const Json& json, const char* key, const std::string& origin) {
  const auto it = json.find(key);
  if (it == json.end()) fail("{}: missing '{}'", origin, key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail("{}: '{}' has the wrong type", origin, key);
  }
}

// The step of a "checkpoint-<n>" folder name, or -1.
int64_t step_of(const std::string& name) {
  const std::string prefix = "checkpoint-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  int64_t step = -1;
  const char* begin = name.data() + prefix.size();
  const char* end = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(begin, end, step);
  return ec == std::errc() && ptr == end ? step : -1;
}

}  // namespace

Json trainer_state_to_json(const TrainerState& s) {
  Json out = Json::object();
  out["step"] = s.step;
  out["micro_step"] = s.micro_step;
  out["samples_seen"] = s.samples_seen;
  out["data_order"] = {{"rng", s.data_order.rng}, {"epoch", s.data_order.epoch}, {"cursor", s.data_order.cursor},
                       {"order", s.data_order.order}};
  out["best_metric"] = s.best_metric ? Json(*s.best_metric) : Json(nullptr);
  out["best_step"] = s.best_step;
  out["best_checkpoint"] = s.best_checkpoint;
  out["evals_without_improvement"] = s.evals_without_improvement;
  out["train_seconds"] = s.train_seconds;
  Json history = Json::array();
  for (const auto& e : s.log_history) history.push_back(log_entry_to_json(e));
  out["log_history"] = std::move(history);
  out["identity"] = s.identity;
  return out;
}

TrainerState trainer_state_from_json(const Json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: expected a JSON object", origin);
  TrainerState s;
  s.step = get<int64_t>(json, "step", origin);
  s.micro_step = get<int64_t>(json, "micro_step", origin);
  s.samples_seen = get<int64_t>(json, "samples_seen", origin);
  const Json& order = get<Json>(json, "data_order", origin);
  const std::string order_origin = origin + ": data_order";
  s.data_order.rng = get<std::array<uint64_t, 4>>(order, "rng", order_origin);
  s.data_order.epoch = get<int64_t>(order, "epoch", order_origin);
  s.data_order.cursor = get<uint64_t>(order, "cursor", order_origin);
  s.data_order.order = get<std::vector<uint32_t>>(order, "order", order_origin);
  const Json best = get<Json>(json, "best_metric", origin);
  if (!best.is_null()) s.best_metric = get<double>(json, "best_metric", origin);
  s.best_step = get<int64_t>(json, "best_step", origin);
  s.best_checkpoint = get<std::string>(json, "best_checkpoint", origin);
  s.evals_without_improvement = get<int64_t>(json, "evals_without_improvement", origin);
  s.train_seconds = get<double>(json, "train_seconds", origin);
  const Json history = get<Json>(json, "log_history", origin);
  if (!history.is_array()) fail("{}: 'log_history': expected an array", origin);
  for (size_t i = 0; i < history.size(); ++i)
    s.log_history.push_back(log_entry_from_json(history[i], fmt::format("{}: log_history[{}]", origin, i)));
  s.identity = get<Json>(json, "identity", origin);
  if (!s.identity.is_object()) fail("{}: 'identity': expected an object", origin);
  return s;
}

TrainerState read_trainer_state(const std::filesystem::path& checkpoint_dir) {
  const auto path = checkpoint_dir / kStateFile;
  if (!std::filesystem::is_regular_file(path))
    fail("{}: not a checkpoint (no {} in it)", checkpoint_dir.string(), kStateFile);
  return trainer_state_from_json(read_json_file(path), path.string());
}

void check_run_identity(const Json& saved, const Json& current, const std::string& origin) {
  for (const auto& [key, value] : current.items()) {
    const auto it = saved.find(key);
    const std::string theirs = it == saved.end() ? "(absent)" : it->dump();
    if (it == saved.end() || *it != value)
      fail("{}: the checkpoint belongs to another run: {} is {} there but {} here", origin, key, theirs, value.dump());
  }
}

std::string checkpoint_name(int64_t step) { return fmt::format("checkpoint-{}", step); }

std::filesystem::path latest_checkpoint(const std::filesystem::path& output_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(output_dir, ec)) return {};
  std::filesystem::path best;
  int64_t best_step = -1;
  for (const auto& entry : std::filesystem::directory_iterator(output_dir, ec)) {
    const int64_t step = step_of(entry.path().filename().string());
    if (step > best_step && std::filesystem::is_regular_file(entry.path() / kStateFile)) best_step = step, best = entry.path();
  }
  return best;
}

void remove_partial_checkpoints(const std::filesystem::path& output_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(output_dir, ec)) return;
  std::vector<std::filesystem::path> partial;
  for (const auto& entry : std::filesystem::directory_iterator(output_dir, ec))
    if (entry.path().filename().string().rfind(kTemporaryPrefix, 0) == 0) partial.push_back(entry.path());
  for (const auto& p : partial) std::filesystem::remove_all(p, ec);
}

void refuse_to_overwrite(const std::filesystem::path& output_dir) {
  const auto latest = latest_checkpoint(output_dir);
  if (!latest.empty())
    fail("output_dir: {} already holds a run ({}); continue it with --resume or choose another output_dir",
         output_dir.string(), latest.filename().string());
}

std::filesystem::path write_checkpoint(const std::filesystem::path& output_dir, int64_t step,
                                       const std::function<void(const std::filesystem::path&)>& fill) {
  const auto final_path = output_dir / checkpoint_name(step);
  const auto temporary = output_dir / (kTemporaryPrefix + std::to_string(step));
  std::filesystem::remove_all(temporary);
  std::filesystem::create_directories(temporary);
  try {
    fill(temporary);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(temporary, ec);
    throw;
  }
  if (std::filesystem::exists(final_path)) {
    // Only when a run re-saves a step it already saved (a resume that stops where it started).
    const auto old = output_dir / (kTemporaryPrefix + std::to_string(step) + "-old");
    std::filesystem::remove_all(old);
    std::filesystem::rename(final_path, old);
    std::filesystem::rename(temporary, final_path);
    std::filesystem::remove_all(old);
  } else {
    std::filesystem::rename(temporary, final_path);
  }
  return final_path;
}

}  // namespace slmtune::train
