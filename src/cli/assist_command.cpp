// `slmtune assist --model M [--adapter A] --gps POSITION "MESSAGE"`: the maritime emergency assistant.
// It prompts the model as training did (the system prompt with the boat's GPS position, the function
// definitions), generates greedily under constrained decoding (every call valid JSON for its function's
// schema; --no-constrained turns it off) and prints the calls, one JSON object per line, then the radio
// message each broadcast_emergency_message call would send, in the GMDSS voice procedure. A reply
// without a call is printed as it is. Nothing else goes to stdout.
//
// The system prompt and the functions come from --system-file / --functions, else the run directory
// (--adapter) or the model directory, else examples/maritime/ under the current directory (the repo
// root): the files training used are the ones that belong with the model.
#include <fmt/format.h>

#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "data/dataset.hpp"
#include "eval/assist_reply.hpp"
#include "eval/evaluator.hpp"
#include "eval/loaded_model.hpp"

namespace slmtune::cli {
namespace {

const char* const kRepoExampleDir = "examples/maritime";

struct AssistOptions {
  eval::ModelSource source;
  std::string system_file;
  std::string functions_file;
  std::string prompt_format;
  std::string gps;
  std::string vessel = "<VESSEL NAME>";
  std::string message;
  int64_t max_new_tokens = 256;
  bool constrained = true;
};

// `explicit_path`, else the run's or model's own file, else the repo's example; one line when none.
std::filesystem::path locate(const std::string& explicit_path, const eval::ModelSource& source, const std::string& name,
                             const char* option) {
  if (!explicit_path.empty()) return explicit_path;
  std::filesystem::path found =
      name == "system_prompt.txt" ? eval::find_system_prompt(source) : eval::find_run_file(source, name);
  if (!found.empty()) return found;
  std::filesystem::path repo = std::filesystem::path(kRepoExampleDir) / name;
  std::error_code ec;
  if (std::filesystem::is_regular_file(repo, ec)) return repo;
  fail("no {} beside the adapter or model, nor {} here: pass {} FILE", name, repo.string(), option);
}

void run_assist(const AssistOptions& o) {
  if (o.max_new_tokens < 1) fail("--max-new-tokens must be at least 1, got {}", o.max_new_tokens);
  if (o.gps.empty()) fail("--gps: expected the boat's position, e.g. \"42.3541N, 71.0654W\"");
  if (o.message.find_first_not_of(" \t\r\n") == std::string::npos) fail("MESSAGE: expected what is happening on board, got nothing");

  const std::filesystem::path system_path = locate(o.system_file, o.source, "system_prompt.txt", "--system-file");
  const std::filesystem::path functions_path = locate(o.functions_file, o.source, "functions.json", "--functions");
  std::string system_template = read_file(system_path);
  while (!system_template.empty() && (system_template.back() == '\n' || system_template.back() == '\r')) system_template.pop_back();
  std::string missing;
  const std::string system = data::fill_template(system_template, {{"gps", o.gps}}, &missing);
  if (!missing.empty())
    fail("{}: the system prompt uses {{{{ {} }}}}, which assist does not know (only {{{{ gps }}}})", system_path.string(), missing);
  if (system_template.find("gps") == std::string::npos)
    log::warn("{}: the system prompt has no {{{{ gps }}}}: the model is not told the position", system_path.string());

  data::Example example;
  example.source = "assist";
  example.tools = functions::parse_function_definitions(read_json_file(functions_path), functions_path.string());
  example.messages.push_back(data::Message{"system", system, {}, ""});
  example.messages.push_back(data::Message{"user", o.message, {}, ""});

  const data::PromptFormat format = eval::choose_prompt_format(o.source, o.prompt_format);
  eval::LoadedModel loaded = eval::LoadedModel::load(o.source);
  if (format == data::PromptFormat::functional_tokens)
    eval::warn_missing_functional_tokens(loaded.model.tokenizer, data::functional_token_names(example.tools));

  const data::ChatMessages chat = data::to_chat_messages(example, format);
  chat::ApplyOptions apply;
  apply.add_generation_prompt = true;
  apply.tools = chat.tools;
  const std::string prompt = loaded.chat_template->apply(chat.messages, apply).text;
  log::debug("prompt ({}, {}):\n{}", system_path.string(), functions_path.string(), prompt);

  eval::GeneratorOptions generation;
  generation.max_new_tokens = o.max_new_tokens;
  generation.eos_ids = loaded.model.eos_ids;
  generation.stop_strings = eval::end_of_turn_strings(*loaded.chat_template);
  generation.constrained = o.constrained;
  eval::TransformerGenerator generator(*loaded.model.transformer, loaded.model.tokenizer, generation);
  const eval::Completion reply = generator.complete(prompt, example.tools);
  log::info("{} prompt tokens, {} generated in {:.2f} s", reply.cost.prompt_tokens, reply.cost.generated_tokens, reply.cost.seconds);
  log::debug("reply:\n{}", reply.text);

  const eval::AssistOutput output = eval::assist_output(reply.text, example.tools, o.gps, o.vessel);
  for (const auto& warning : output.warnings) log::warn("{}", warning);
  fmt::print("{}", output.text);
}

const CommandRegistration registration(73, [](CLI::App& app) {
  auto o = std::make_shared<AssistOptions>();
  auto* cmd = app.add_subcommand(
      "assist", "The maritime emergency assistant: a crew message -> function calls -> the radio message to send.\n"
                "Example: slmtune assist --model models/maritime-lm --adapter runs/maritime --gps \"42.3541N, 71.0654W\" "
                "\"we are taking on water\"");
  cmd->add_option("MESSAGE", o->message, "What the crew says")->required();
  cmd->add_option("--model", o->source.model, "A Hugging Face directory or a .gguf file")->required();
  cmd->add_option("--adapter", o->source.adapter, "A PEFT adapter directory (a training run's output) to attach");
  cmd->add_option("--gps", o->gps, "The boat's GPS position, copied into the alert as given")->required();
  cmd->add_option("--vessel", o->vessel, "The boat's name, spoken in the radio message")->capture_default_str();
  cmd->add_option("--system-file", o->system_file,
                  "System prompt with {{ gps }} (default: system_prompt.txt of the run or model, else examples/maritime/)");
  cmd->add_option("--functions", o->functions_file,
                  "Function definitions (default: functions.json of the run or model, else examples/maritime/)");
  cmd->add_option("--prompt-format", o->prompt_format,
                  "definitions_in_prompt or functional_tokens (default: the run's train_config.yaml, else definitions_in_prompt)");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "Most tokens generated")->capture_default_str();
  cmd->add_flag("--constrained,!--no-constrained", o->constrained,
                "Constrained decoding: the calls are held to the functions' schemas, so each one is valid JSON "
                "with allowed values (default: on; --no-constrained shows what the model writes alone)");
  cmd->add_option("--chat-template", o->source.chat_template, "Use a built-in template: chatml, llama-2, llama-3, phi-3, zephyr");
  cmd->add_option("--chat-template-file", o->source.chat_template_file, "Use the Jinja template in this file");
  cmd->callback([o] { run_assist(*o); });
});

}  // namespace
}  // namespace slmtune::cli
