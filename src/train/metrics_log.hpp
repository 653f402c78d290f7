#pragma once
// The training log: one LogEntry per logged step, written as one JSON object per line to
// metrics.jsonl (step, epoch, loss, lr, grad_norm, tokens_per_s; eval_* on evaluation steps) and kept
// in trainer_state.json's log history, from which a resumed run rewrites metrics.jsonl exactly up to
// its checkpoint.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::train {

struct LogEntry {
  int64_t step = 0;
  double epoch = 0;            // fractional: samples drawn / training samples
  bool has_train = false;      // loss, lr, grad_norm and tokens_per_s are set (a logging step)
  double loss = 0;             // token-mean train loss since the previous logged step
  double lr = 0;
  double grad_norm = 0;        // before clipping, of the last step
  double tokens_per_s = 0;     // non-padding input tokens per second of training (evaluation excluded)
  std::map<std::string, double> eval;  // "eval_loss", "eval_<task metric>", on evaluation steps only
};

Json log_entry_to_json(const LogEntry& entry);
// Fails naming `origin` when a field has the wrong type or step/epoch are missing.
LogEntry log_entry_from_json(const Json& json, const std::string& origin);

// metrics.jsonl: the whole history, rewritten atomically (runs log every few steps, so this stays small).
void write_metrics_jsonl(const std::filesystem::path& path, const std::vector<LogEntry>& history);
std::vector<LogEntry> read_metrics_jsonl(const std::filesystem::path& path);

}  // namespace slmtune::train
