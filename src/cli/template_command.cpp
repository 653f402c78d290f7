// `slmtune template`: show a model's chat template, or render it over a conversation, or render any
// template with exactly the variables of a JSON file (to compare against Python's Jinja2).
//
//   slmtune template MODEL                                  print the template's source
//   slmtune template MODEL --messages M.json [--tools T.json] [--add-generation-prompt]
//   slmtune template --template FILE.jinja --context CTX.json
#include <cstdio>

#include "chat/builtin_templates.hpp"
#include "chat/chat_template.hpp"
#include "chat/template_source.hpp"
#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"

namespace slmtune::cli {
namespace {

struct TemplateOptions {
  std::string model;
  std::string messages, tools, extra;
  bool add_generation_prompt = false;
  std::string chat_template, chat_template_file;
  std::string template_file, context;
};

// Byte for byte: no newline added, nothing re-encoded.
void write_stdout(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) fail("template: could not write to stdout");
  std::fflush(stdout);
}

void render_raw(const TemplateOptions& o) {
  if (o.context.empty()) fail("template: --template needs --context CTX.json (a JSON object of variables)");
  const Json context = read_json_file(o.context);
  if (!context.is_object()) fail("{}: expected a JSON object of template variables", o.context);
  const jinja::Template tmpl(read_file(o.template_file), o.template_file);
  write_stdout(tmpl.render(context));
}

void run(const TemplateOptions& o) {
  if (!o.template_file.empty()) {
    if (!o.model.empty() || !o.messages.empty()) fail("template: --template renders a file on its own; drop MODEL and --messages");
    render_raw(o);
    return;
  }
  if (o.model.empty() && o.chat_template.empty() && o.chat_template_file.empty())
    fail("template: give a MODEL, --chat-template NAME, --chat-template-file F, or --template FILE --context CTX");

  const chat::ModelTemplate model = chat::resolve_chat_template(o.model, o.chat_template, o.chat_template_file);
  if (o.messages.empty()) {
    if (!o.tools.empty() || o.add_generation_prompt) fail("template: --tools and --add-generation-prompt need --messages");
    write_stdout(*model.source);
    if (model.source->empty() || model.source->back() != '\n') write_stdout("\n");
    return;
  }
  const chat::ChatTemplate tmpl(*model.source, model.tokens, model.origin);
  chat::ApplyOptions options;
  options.add_generation_prompt = o.add_generation_prompt;
  options.tokenizer_adds_bos = model.tokenizer_adds_bos;
  const Json messages = read_json_file(o.messages);
  if (!messages.is_array()) fail("{}: expected a JSON array of messages", o.messages);
  if (!o.tools.empty()) {
    options.tools = read_json_file(o.tools);
    if (!options.tools.is_array()) fail("{}: expected a JSON array of tool definitions", o.tools);
  }
  if (!o.extra.empty()) {
    options.extra = read_json_file(o.extra);
    if (!options.extra.is_object()) fail("{}: expected a JSON object of extra template variables", o.extra);
  }
  write_stdout(tmpl.apply(messages, options).text);
}

const CommandRegistration registration(25, [](CLI::App& app) {
  auto options = std::make_shared<TemplateOptions>();
  auto* cmd = app.add_subcommand("template", "Show a model's chat template or render it over a conversation");
  cmd->add_option("model", options->model, "Model folder, tokenizer_config.json or .gguf");
  cmd->add_option("--messages", options->messages, "JSON file: the conversation, an array of {role, content}");
  cmd->add_option("--tools", options->tools, "JSON file: an array of tool (function) definitions");
  cmd->add_option("--vars", options->extra, "JSON file: extra template variables (e.g. {\"enable_thinking\": false})");
  cmd->add_flag("--add-generation-prompt", options->add_generation_prompt, "End with the assistant turn's opening");
  cmd->add_option("--chat-template", options->chat_template, "Use a built-in template: chatml, llama-2, llama-3, phi-3, zephyr");
  cmd->add_option("--chat-template-file", options->chat_template_file, "Use the Jinja template in this file");
  cmd->add_option("--template", options->template_file, "Render this Jinja file with exactly the variables of --context");
  cmd->add_option("--context", options->context, "JSON file: the variables for --template (an object)");
  cmd->callback([options] { run(*options); });
});

}  // namespace
}  // namespace slmtune::cli
