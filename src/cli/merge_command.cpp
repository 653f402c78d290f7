// `slmtune merge --model M --adapter A --out DIR`: the base model with a LoRA/DoRA adapter merged into
// its weights (W + s·B·A, or DoRA's m·V/‖V‖), written as a plain Hugging Face folder that any tool
// loads without PEFT — what `peft`'s merge_and_unload() followed by save_pretrained() gives. The
// tokenizer files and chat template come from the adapter's run directory when it has them (training
// may have changed the template or added tokens), else from the model folder. Trainable token rows
// (PEFT's trainable_token_indices) and biases trained under bias all/lora_only are applied to the base
// before merging. The folder is written under a temporary name and renamed, so an interrupted merge
// leaves nothing half-written.
#include <fmt/format.h>

#include <filesystem>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "model/weights.hpp"
#include "peft/adapter_io.hpp"
#include "peft/run_adapter.hpp"
#include "tokenizer/tokenizer_files.hpp"

namespace slmtune::cli {
namespace {

struct MergeOptions {
  std::filesystem::path model, adapter, out;
  bool force = false;
};

int64_t file_bytes(const std::filesystem::path& dir) {
  int64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) total += static_cast<int64_t>(entry.file_size());
  return total;
}

void run_merge(const MergeOptions& o) {
  if (std::filesystem::exists(o.out) && !o.force)
    fail("merge: {} already exists; choose another --out or add --force to replace it", o.out.string());
  // The run's trained token rows and biases become part of the base the adapters merge into, so the
  // merged folder holds them as trained.
  const auto run = peft::load_run_adapter(o.adapter, std::make_shared<const ModelWeights>(ModelWeights::load(o.model)));
  const auto& adapters = run.adapters;

  std::filesystem::path partial = o.out;
  partial += ".partial";
  std::filesystem::remove_all(partial);
  try {
    peft::save_merged_model(*adapters, partial);
    const std::filesystem::path tokenizer_from =
        std::filesystem::is_regular_file(o.adapter / "tokenizer.json") ? o.adapter : o.model;
    if (tokenizer::copy_tokenizer_files(tokenizer_from, partial) == 0)
      log::warn("merge: no tokenizer files in {}; the merged folder holds the weights only", tokenizer_from.string());
    std::filesystem::remove_all(o.out);
    std::filesystem::rename(partial, o.out);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(partial, ignored);
    throw;
  }
  const auto& c = adapters->config();
  fmt::print("merged {} {} adapters (r={}, alpha={:g}) into {} ({:.1f} MB)\n", adapters->size(),
             c.use_dora ? "DoRA" : "LoRA", c.r, c.lora_alpha, o.out.string(), file_bytes(o.out) / 1e6);
}

const CommandRegistration registration(74, [](CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = app.add_subcommand(
      "merge", "Merge a LoRA/DoRA adapter into its base model and write a plain Hugging Face folder.\n"
               "Example: slmtune merge --model models/maritime-lm --adapter runs/main-job/train --out runs/main-job/merged");
  cmd->add_option("--model", o->model, "The base model: a Hugging Face folder or a .gguf file")->required();
  cmd->add_option("--adapter", o->adapter, "A PEFT adapter folder (a training run's output)")->required();
  cmd->add_option("--out", o->out, "The folder to write (config.json, model.safetensors, tokenizer files)")->required();
  cmd->add_flag("--force", o->force, "Replace --out when it exists");
  cmd->callback([o] { run_merge(*o); });
});

}  // namespace
}  // namespace slmtune::cli
