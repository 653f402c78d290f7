// `slmtune chat MODEL`: talk to a model through its chat template. On a terminal it prompts for each
// turn; with stdin piped, every line is one user turn and each reply is printed on its own line.
// The rendered conversation is tokenized as transformers' apply_chat_template(tokenize=True) does:
// no special tokens added, those the template writes ("<s>", "<|im_start|>") recognised.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "chat/chat_template.hpp"
#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "eval/loaded_model.hpp"
#include "formats/json.hpp"
#include "infer/generate.hpp"
#include "infer/inference_model.hpp"
#include "infer/transformer_model.hpp"

namespace slmtune::cli {
namespace {

struct ChatOptions {
  std::string model;
  std::string adapter;
  std::string system;
  std::string chat_template, chat_template_file;
  int64_t max_tokens = 256;
  infer::SamplingConfig sampling;
  bool check_numerics = false;
};

void print_piece(std::string_view piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

void run_chat(const ChatOptions& o) {
  infer::validate(o.sampling);
  // With --adapter, the run's tokenizer and chat_template.jinja are preferred (eval/loaded_model.hpp).
  eval::LoadedModel loaded = eval::LoadedModel::load({o.model, o.adapter, o.chat_template, o.chat_template_file});
  const chat::ChatTemplate& tmpl = *loaded.chat_template;
  infer::InferenceModel& model = loaded.model;
  infer::TransformerModel lm(*model.transformer, o.check_numerics);
  infer::Sampler sampler(o.sampling);
  infer::GenerationOptions options;
  options.max_new_tokens = o.max_tokens;
  options.eos_ids = model.eos_ids;
  const auto decode = [&](std::span<const int32_t> ids) { return model.tokenizer.decode(ids, /*skip_special=*/true); };

  Json messages = Json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  const bool interactive = isatty(fileno(stdin)) != 0;
  if (interactive) fmt::print(stderr, "Chatting with {} (Ctrl-D to end).\n", o.model);
  std::string line;
  while (true) {
    if (interactive) {
      fmt::print(stderr, "> ");
      std::fflush(stderr);
    }
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    chat::ApplyOptions apply;
    apply.add_generation_prompt = true;
    const std::string text = tmpl.apply(messages, apply).text;
    const std::vector<int32_t> prompt = model.tokenizer.encode(text, /*add_special=*/false, /*parse_special=*/true);
    const infer::GenerationResult reply = infer::generate(lm, sampler, decode, prompt, options, print_piece);
    print_piece("\n");
    log::debug("chat: {} prompt tokens, {} generated, stop: {}", reply.prompt_tokens, reply.tokens.size(),
               infer::stop_reason_name(reply.reason));
    messages.push_back({{"role", "assistant"}, {"content", reply.text}});
  }
}

const CommandRegistration registration(61, [](CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand("chat", "Chat with a model through its chat template (one turn per line when piped).\n"
                                         "Example: echo 'What is the capital of France?' | slmtune chat model.gguf");
  cmd->add_option("MODEL", o->model, "A Hugging Face directory or a .gguf file")->required();
  cmd->add_option("--adapter", o->adapter,
                  "A PEFT adapter directory (a training run's output) to attach; its tokenizer and chat template are "
                  "used when it has them");
  cmd->add_option("--system", o->system, "A system message to start the conversation with");
  cmd->add_option("--chat-template", o->chat_template, "Use a built-in template: chatml, llama-2, llama-3, phi-3, zephyr");
  cmd->add_option("--chat-template-file", o->chat_template_file, "Use the Jinja template in this file");
  cmd->add_option("--max-tokens", o->max_tokens, "Most tokens per reply")->default_val(256);
  cmd->add_option("--temperature", o->sampling.temperature, "0 = greedy (the default); > 0 samples")->default_val(0.0f);
  cmd->add_option("--top-k", o->sampling.top_k, "Sample among the K most likely tokens (0 = off)")->default_val(0);
  cmd->add_option("--top-p", o->sampling.top_p, "Nucleus sampling threshold (1 = off)")->default_val(1.0f);
  cmd->add_option("--min-p", o->sampling.min_p, "Drop tokens below P x the top token's probability (0 = off)")->default_val(0.0f);
  cmd->add_option("--repetition-penalty", o->sampling.repetition_penalty, "Penalise tokens already seen (1 = off)")->default_val(1.0f);
  cmd->add_option("--seed", o->sampling.seed, "Seed of the sampler")->default_val(0);
  cmd->add_flag("--check-numerics", o->check_numerics, "Fail naming the layer where a NaN or Inf first appears");
  cmd->callback([o] { run_chat(*o); });
});

}  // namespace
}  // namespace slmtune::cli
