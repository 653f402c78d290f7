#pragma once
// What `slmtune eval`, `assist`, `chat` and `generate` load from --model [--adapter]: the base model, the adapter
// attached to it, the tokenizer and the chat template, and the files a fine-tuning run leaves beside
// its adapter (system prompt, function definitions, prompt format), so that evaluation and the
// assistant prompt the model exactly as training did.
//
// A run directory given as --adapter is preferred for everything it holds: its tokenizer (training
// may have added tokens, e.g. functional tokens), chat_template.jinja, system_prompt.txt,
// functions.json and train_config.yaml's prompt_format and data.system_prompt. Then the model
// directory, then the defaults.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "data/chat_format.hpp"
#include "infer/inference_model.hpp"
#include "peft/lora_model.hpp"

namespace slmtune::eval {

struct ModelSource {
  std::filesystem::path model;
  std::filesystem::path adapter;             // empty: the base model alone
  std::string chat_template;                 // a built-in name, or empty
  std::filesystem::path chat_template_file;  // a Jinja file, or empty
};

struct LoadedModel {
  infer::InferenceModel model;
  std::unique_ptr<peft::LoraModel> adapter;  // attached to model.transformer, in inference mode
  std::optional<chat::ChatTemplate> chat_template;  // set by load() unless with_chat_template is false

  // Fails with one line naming the file when a part does not load. `slmtune generate` prompts with
  // raw text and passes with_chat_template = false, so a model without a template still loads.
  static LoadedModel load(const ModelSource& source, bool with_chat_template = true);
};

// The first of `names` that exists as a regular file in the adapter directory, then in the model
// directory (a model given as a file counts as its folder); empty when none does.
std::filesystem::path find_run_file(const ModelSource& source, const std::string& name);

// The system prompt training used: system_prompt.txt in the adapter directory, else the file that
// train_config.yaml's data.system_prompt names (as given, or relative to the config's directory), else
// system_prompt.txt in the model directory; empty when none is found.
std::filesystem::path find_system_prompt(const ModelSource& source);

// The prompt format to use: `requested` when given, else train_config.yaml's `prompt_format` in the
// adapter or model directory, else definitions_in_prompt.
data::PromptFormat choose_prompt_format(const ModelSource& source, const std::string& requested);

// Warns when the functional-token format is used with a tokenizer that lacks the function tokens
// (they would be spelled out in several ordinary tokens the model was never trained to emit).
void warn_missing_functional_tokens(const tokenizer::Tokenizer& tokenizer, const std::vector<std::string>& tokens);

}  // namespace slmtune::eval
