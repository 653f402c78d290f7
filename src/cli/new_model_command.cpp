// `slmtune new-model --preset NAME OUT_DIR`: a Hugging Face model directory with freshly initialised
// weights of a known shape, the starting point for pretraining and the subject of benchmarks.
#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/format_number.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "model/architecture.hpp"
#include "model/presets.hpp"
#include "model/random_init.hpp"

namespace slmtune::cli {
namespace {

struct NewModelOptions {
  std::string preset = "tiny-llama";
  std::string out;
  std::string dtype = "f32";
  uint64_t seed = 0;
  int64_t vocab_size = 0;
  int64_t layers = 0;
  int64_t context = 0;
};

const CommandRegistration registration(90, [](CLI::App& app) {
  auto options = std::make_shared<NewModelOptions>();
  std::string presets;
  for (const auto& preset : model_presets()) presets += fmt::format("\n  {:<14} {}", preset.name, preset.description);
  auto* command = app.add_subcommand(
      "new-model", "Write a Hugging Face model directory with randomly initialised weights (N(0, 0.02), norms 1).\n"
                   "Presets:" + presets + "\nExample: slmtune new-model --preset tiny-phi3 runs/tiny-phi3");
  command->add_option("OUT_DIR", options->out, "Directory to write config.json and model.safetensors into")->required();
  command->add_option("--preset", options->preset, "Model shape")->capture_default_str();
  command->add_option("--dtype", options->dtype, "Storage dtype: f32, f16 or bf16")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  command->add_option("--seed", options->seed, "Random seed")->capture_default_str();
  command->add_option("--vocab-size", options->vocab_size, "Override the preset's vocabulary size");
  command->add_option("--layers", options->layers, "Override the preset's number of layers");
  command->add_option("--context", options->context, "Override the preset's context length");
  command->callback([options] {
    ModelConfig config = find_model_preset(options->preset).config;
    if (options->vocab_size < 0 || options->layers < 0 || options->context < 0)
      fail("--vocab-size, --layers and --context must be positive");
    if (options->vocab_size > 0) config.vocab_size = options->vocab_size;
    if (options->layers > 0) config.num_layers = options->layers;
    if (options->context > 0) config.max_position_embeddings = options->context;
    RandomInitOptions init;
    init.seed = options->seed;
    init.dtype = options->dtype == "f32" ? DType::F32 : options->dtype == "f16" ? DType::F16 : DType::BF16;
    write_random_model(config, options->out, init);
    log::info("wrote {} ({}, {} parameters, {})", options->out, config.architecture,
              with_commas(expected_parameter_count(config)), options->dtype);
  });
});

}  // namespace
}  // namespace slmtune::cli
