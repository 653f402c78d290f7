// `slmtune generate MODEL --prompt P`: continue a raw prompt (no chat template), printing the text as
// it is generated. The prompt is tokenized as the model's tokenizer config says (BOS for Llama-2),
// with special tokens written in it ("<|im_start|>") recognised, as transformers' tokenizer(text) does.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "eval/loaded_model.hpp"
#include "infer/generate.hpp"
#include "infer/inference_model.hpp"
#include "infer/transformer_model.hpp"

namespace slmtune::cli {
namespace {

struct GenerateOptions {
  std::string model;
  std::string adapter;
  std::string prompt;
  int64_t max_tokens = 128;
  infer::SamplingConfig sampling;
  std::vector<std::string> stop;
  bool check_numerics = false;
  bool no_kv_cache = false;
};

void print_piece(std::string_view piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

void run_generate(const GenerateOptions& o) {
  infer::validate(o.sampling);
  if (o.sampling.greedy() && (o.sampling.top_k != 0 || o.sampling.top_p != 1.0f || o.sampling.min_p != 0.0f))
    log::warn("generate: --top-k/--top-p/--min-p only act when sampling; add --temperature T (> 0)");
  eval::LoadedModel loaded = eval::LoadedModel::load({o.model, o.adapter, "", ""}, /*with_chat_template=*/false);
  infer::InferenceModel& model = loaded.model;
  const std::vector<int32_t> prompt = model.tokenizer.encode(o.prompt, /*add_special=*/true, /*parse_special=*/true);
  infer::TransformerModel lm(*model.transformer, o.check_numerics, /*use_cache=*/!o.no_kv_cache);
  infer::Sampler sampler(o.sampling);
  infer::GenerationOptions options;
  options.max_new_tokens = o.max_tokens;
  options.eos_ids = model.eos_ids;
  options.stop_strings = o.stop;
  const auto decode = [&](std::span<const int32_t> ids) { return model.tokenizer.decode(ids); };
  const infer::GenerationResult result = infer::generate(lm, sampler, decode, prompt, options, print_piece);
  print_piece("\n");
  const auto generated = static_cast<double>(result.tokens.size());
  log::info("{} prompt tokens in {:.2f} s ({:.1f} tokens/s); {} generated in {:.2f} s ({:.1f} tokens/s); stop: {}",
            result.prompt_tokens, result.prefill_seconds,
            result.prefill_seconds > 0 ? static_cast<double>(result.prompt_tokens) / result.prefill_seconds : 0.0,
            result.tokens.size(), result.decode_seconds,
            result.decode_seconds > 0 ? generated / result.decode_seconds : 0.0, infer::stop_reason_name(result.reason));
}

const CommandRegistration registration(60, [](CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "Continue a raw prompt with a model (no chat template).\n"
                                             "Example: slmtune generate model.gguf --prompt 'Once upon a time' --max-tokens 40");
  cmd->add_option("MODEL", o->model, "A Hugging Face directory or a .gguf file")->required();
  cmd->add_option("--adapter", o->adapter,
                  "A PEFT adapter directory (a training run's output) to attach; its tokenizer is used when it has one");
  cmd->add_option("--prompt", o->prompt, "The text to continue")->required();
  cmd->add_option("--max-tokens", o->max_tokens, "Most tokens to generate")->default_val(128);
  cmd->add_option("--temperature", o->sampling.temperature, "0 = greedy (the default); > 0 samples")->default_val(0.0f);
  cmd->add_option("--top-k", o->sampling.top_k, "Sample among the K most likely tokens (0 = off)")->default_val(0);
  cmd->add_option("--top-p", o->sampling.top_p, "Nucleus sampling: the smallest set with probability >= P (1 = off)")->default_val(1.0f);
  cmd->add_option("--min-p", o->sampling.min_p, "Drop tokens below P x the top token's probability (0 = off)")->default_val(0.0f);
  cmd->add_option("--repetition-penalty", o->sampling.repetition_penalty, "Penalise tokens already seen (1 = off)")->default_val(1.0f);
  cmd->add_option("--seed", o->sampling.seed, "Seed of the sampler")->default_val(0);
  cmd->add_option("--stop", o->stop, "Stop when this text appears (cut from the output); repeatable")->allow_extra_args(false);
  cmd->add_flag("--check-numerics", o->check_numerics, "Fail naming the layer where a NaN or Inf first appears");
  cmd->add_flag("--no-kv-cache", o->no_kv_cache, "Re-run the whole sequence for every token (slow; for checking the cache)");
  cmd->callback([o] { run_generate(*o); });
});

}  // namespace
}  // namespace slmtune::cli
