#pragma once
// Checkpoints of a training run: output_dir/checkpoint-<step>/ holding the trained weights (a PEFT
// adapter or model.safetensors), optimizer.bin and trainer_state.json — everything a resumed run
// needs to continue bit-identically. A checkpoint is filled in a hidden temporary folder and renamed
// into place whole, so a run killed at any moment leaves only complete checkpoints behind.
//
// trainer_state.json also records the run's identity (model shape, method, rank, targets, …); a resume
// compares it with the new run's and refuses with one line naming the first difference.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "train/batching.hpp"
#include "train/metrics_log.hpp"

namespace slmtune::train {

struct TrainerState {
  int64_t step = 0;           // optimizer steps taken
  int64_t micro_step = 0;     // micro-batches run (selects dropout masks)
  int64_t samples_seen = 0;
  DataOrder::State data_order;
  std::optional<double> best_metric;
  int64_t best_step = 0;
  std::string best_checkpoint;  // folder name inside output_dir ("checkpoint-40"), empty when none
  int64_t evals_without_improvement = 0;
  double train_seconds = 0;
  std::vector<LogEntry> log_history;
  Json identity = Json::object();  // name → value; see check_run_identity
};

Json trainer_state_to_json(const TrainerState& state);
TrainerState trainer_state_from_json(const Json& json, const std::string& origin);
TrainerState read_trainer_state(const std::filesystem::path& checkpoint_dir);

// Fails with one line naming `origin`, the first key whose value differs and both values.
void check_run_identity(const Json& saved, const Json& current, const std::string& origin);

std::string checkpoint_name(int64_t step);  // "checkpoint-<step>"
// The complete checkpoint (one with trainer_state.json) of the highest step, or empty.
std::filesystem::path latest_checkpoint(const std::filesystem::path& output_dir);
// Removes temporary folders left by a run killed while writing a checkpoint.
void remove_partial_checkpoints(const std::filesystem::path& output_dir);

// A fresh run must not mix its checkpoints with another run's: fails with one line naming the latest
// checkpoint already in `output_dir` (continue it with --resume, or choose another output_dir).
void refuse_to_overwrite(const std::filesystem::path& output_dir);

// Creates a temporary folder, lets `fill` write into it, and renames it to checkpoint-<step> (an
// older folder of that name is replaced). Returns the final path.
std::filesystem::path write_checkpoint(const std::filesystem::path& output_dir, int64_t step,
                                       const std::function<void(const std::filesystem::path&)>& fill);

}  // namespace slmtune::train
