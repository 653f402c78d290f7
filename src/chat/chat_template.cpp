#include "chat/chat_template.hpp"

#include <algorithm>
#include <regex>

#include "chat/jinja/template_error.hpp"
#include "core/log.hpp"

namespace slmtune::chat {
namespace {

// A template supports tools when it mentions the variable at all; one that never reads `tools`
// would silently drop the definitions.
bool mentions_tools(const std::string& source) {
  static const std::regex tools_name(R"((^|[^A-Za-z0-9_.'"])tools([^A-Za-z0-9_'"]|$))");
  return std::regex_search(source, tools_name);
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, SpecialTokens tokens, std::string origin)
    : source_(std::move(source)),
      tokens_(std::move(tokens)),
      template_(source_, std::move(origin)),
      supports_tools_(mentions_tools(source_)) {}

Rendered ChatTemplate::render(const Json& messages, const ApplyOptions& options, bool pass_tools) const {
  if (!messages.is_array()) fail("{}: messages must be a JSON array", template_.origin());
  if (!options.extra.is_null() && !options.extra.is_object())
    fail("{}: extra template variables must be a JSON object", template_.origin());
  // Variables go straight into template values: a JSON copy of the conversation first would cost
  // more than the render itself.
  jinja::Dict context;
  auto set = [&context](const char* name, jinja::Value value) { context.set(jinja::Value::string(name), std::move(value)); };
  set("messages", jinja::Value::from_json(messages));
  set("tools", pass_tools ? jinja::Value::from_json(options.tools) : jinja::Value::none());
  set("documents", jinja::Value::from_json(options.documents));
  set("add_generation_prompt", jinja::Value::boolean(options.add_generation_prompt));
  if (tokens_.bos) set("bos_token", jinja::Value::string(*tokens_.bos));
  if (tokens_.eos) set("eos_token", jinja::Value::string(*tokens_.eos));
  if (tokens_.unk) set("unk_token", jinja::Value::string(*tokens_.unk));
  if (tokens_.pad) set("pad_token", jinja::Value::string(*tokens_.pad));
  if (options.extra.is_object())
    for (const auto& [key, value] : options.extra.items()) set(key.c_str(), jinja::Value::from_json(value));

  auto result = template_.render_values(context, options.render);
  Rendered out;
  out.text = std::move(result.text);
  out.generation = std::move(result.generation);
  if (options.tokenizer_adds_bos && tokens_.bos && !tokens_.bos->empty() && out.text.rfind(*tokens_.bos, 0) == 0) {
    if (!bos_note_logged_->exchange(true))
      log::info("{}: the template writes the BOS token and the tokenizer adds one too; dropping the template's",
                template_.origin());
    const size_t n = tokens_.bos->size();
    out.text.erase(0, n);
    for (auto& span : out.generation) {
      span.begin = span.begin >= n ? span.begin - n : 0;
      span.end = span.end >= n ? span.end - n : 0;
    }
    out.dropped_leading_bos = true;
  }
  return out;
}

Rendered ChatTemplate::apply(const Json& messages, const ApplyOptions& options) const {
  const bool has_tools = options.tools.is_array() && !options.tools.empty();
  const bool has_tool_messages = messages.is_array() && std::any_of(messages.begin(), messages.end(), [](const Json& m) {
                                   return m.is_object() && (m.value("role", "") == "tool" || m.contains("tool_calls"));
                                 });
  if (supports_tools_ || (!has_tools && !has_tool_messages)) return render(messages, options, true);

  // The fallback: first as a system message; a template that refuses system messages gets the
  // definitions at the start of the first user turn instead.
  const bool had_system = messages.is_array() && !messages.empty() && messages[0].is_object() &&
                          messages[0].value("role", "") == "system";
  try {
    Rendered r = render(messages_with_tool_fallback(messages, options.tools, false), options, false);
    r.used_tool_fallback = true;
    return r;
  } catch (const jinja::TemplateError& e) {
    if (had_system || !has_tools) throw;
    log::info("{}: {}; putting the tool definitions in the first user message instead", template_.origin(), e.what());
  }
  Rendered r = render(messages_with_tool_fallback(messages, options.tools, true), options, false);
  r.used_tool_fallback = true;
  return r;
}

}  // namespace slmtune::chat
