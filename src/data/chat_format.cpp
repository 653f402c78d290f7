#include "data/chat_format.hpp"

#include <set>

#include "core/error.hpp"

namespace slmtune::data {
namespace {

const char* const kFunctionalTokenPrefix = "<fn_";

Json tool_calls_json(const std::vector<functions::FunctionCall>& calls) {
  Json out = Json::array();
  for (const auto& call : calls) {
    // Arguments stay an object: templates that render tool calls (Qwen2.5, Hermes) apply `tojson` to
    // them, and a JSON string would be quoted twice.
    Json function = Json::object();
    function["name"] = call.name;
    function["arguments"] = call.arguments;
    out.push_back(Json{{"type", "function"}, {"function", std::move(function)}});
  }
  return out;
}

}  // namespace

PromptFormat parse_prompt_format(const std::string& name) {
  if (name == "definitions_in_prompt") return PromptFormat::definitions_in_prompt;
  if (name == "functional_tokens") return PromptFormat::functional_tokens;
  fail("unknown prompt format \"{}\" (expected definitions_in_prompt or functional_tokens)", name);
}

const char* prompt_format_name(PromptFormat format) {
  return format == PromptFormat::functional_tokens ? "functional_tokens" : "definitions_in_prompt";
}

std::string functional_token(const std::string& function_name) {
  return kFunctionalTokenPrefix + function_name + ">";
}

std::vector<std::string> functional_token_names(const std::vector<functions::FunctionDefinition>& functions) {
  std::vector<std::string> out;
  out.reserve(functions.size());
  for (const auto& f : functions) out.push_back(functional_token(f.name));
  return out;
}

std::vector<std::string> functional_token_names(const std::vector<Example>& examples) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& example : examples)
    for (const auto& f : example.tools)
      if (seen.insert(f.name).second) out.push_back(functional_token(f.name));
  return out;
}

std::string functional_tokens_text(const std::string& content, const std::vector<functions::FunctionCall>& calls) {
  std::string text = content;
  for (const auto& call : calls) {
    if (!text.empty()) text += "\n";
    text += functional_token(call.name) + python_json_dumps(call.arguments);
  }
  return text;
}

ChatMessages to_chat_messages(const Example& example, PromptFormat format) {
  ChatMessages out;
  out.messages = Json::array();
  for (const auto& m : example.messages) {
    Json message = Json::object();
    message["role"] = m.role;
    if (m.role == "assistant" && !m.calls.empty()) {
      if (format == PromptFormat::functional_tokens) {
        message["content"] = functional_tokens_text(m.content, m.calls);
      } else {
        message["content"] = m.content;
        message["tool_calls"] = tool_calls_json(m.calls);
      }
    } else {
      message["content"] = m.content;
    }
    if (m.role == "tool" && !m.tool_call_id.empty()) message["tool_call_id"] = m.tool_call_id;
    out.messages.push_back(std::move(message));
  }
  if (format == PromptFormat::definitions_in_prompt && !example.tools.empty()) {
    out.tools = Json::array();
    for (const auto& f : example.tools) out.tools.push_back(functions::to_tool_json(f));
  }
  return out;
}

}  // namespace slmtune::data
