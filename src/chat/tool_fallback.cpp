// slmtune's tool-calling format for chat templates that have none (documented in
// docs/chat-templates.md; change both together). It follows the widely used Hermes convention so
// that models fine-tuned with it emit calls our parser (functions/) reads back.
#include "chat/chat_template.hpp"
#include "core/error.hpp"

namespace slmtune::chat {
namespace {

const char* const kToolPreamble =
    "You can call functions. To call one, reply with a JSON object inside <tool_call></tool_call> tags:\n"
    "<tool_call>{\"name\": <function name>, \"arguments\": <arguments object>}</tool_call>\n"
    "Available functions:\n";

std::string content_text(const Json& message) {
  if (!message.contains("content") || message["content"].is_null()) return "";
  const Json& c = message["content"];
  if (c.is_string()) return c.get<std::string>();
  if (c.is_array()) {  // multimodal parts: keep the text ones
    std::string out;
    for (const auto& part : c)
      if (part.is_object() && part.value("type", "") == "text") out += part.value("text", "");
    return out;
  }
  return python_json_dumps(c);
}

std::string tool_call_text(const Json& call) {
  const Json& fn = call.contains("function") ? call["function"] : call;
  Json arguments = fn.contains("arguments") ? fn["arguments"] : Json::object();
  if (arguments.is_string()) {  // OpenAI style: arguments as a JSON string
    try {
      arguments = Json::parse(arguments.get<std::string>());
    } catch (const nlohmann::json::exception&) {
    }
  }
  Json out = Json::object();
  out["name"] = fn.value("name", "");
  out["arguments"] = arguments;
  return "<tool_call>" + python_json_dumps(out) + "</tool_call>";
}

}  // namespace

Json messages_with_tool_fallback(const Json& messages, const Json& tools, bool into_first_user) {
  if (!messages.is_array()) fail("messages must be a JSON array");
  Json out = Json::array();
  for (const auto& m : messages) {
    if (!m.is_object()) fail("each message must be a JSON object");
    const std::string role = m.value("role", "");
    if (role == "tool") {
      // Tool results become user turns; consecutive results share one.
      Json result = Json::object();
      if (m.contains("name")) result["name"] = m["name"];
      if (m.contains("tool_call_id")) result["tool_call_id"] = m["tool_call_id"];
      result["content"] = content_text(m);
      const std::string text = "<tool_response>" + python_json_dumps(result) + "</tool_response>";
      if (!out.empty() && out.back().value("role", "") == "user" && out.back().value("slmtune_tool_result", false)) {
        out.back()["content"] = out.back()["content"].get<std::string>() + "\n" + text;
      } else {
        out.push_back(Json{{"role", "user"}, {"content", text}, {"slmtune_tool_result", true}});
      }
      continue;
    }
    Json copy = m;
    if (role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array()) {
      std::string text = content_text(m);
      for (const auto& call : m["tool_calls"]) {
        if (!text.empty()) text += "\n";
        text += tool_call_text(call);
      }
      copy.erase("tool_calls");
      copy["content"] = text;
    }
    out.push_back(std::move(copy));
  }
  for (auto& m : out) m.erase("slmtune_tool_result");

  if (!tools.is_array() || tools.empty()) return out;
  std::string definitions = kToolPreamble;
  for (const auto& tool : tools) definitions += python_json_dumps(tool) + "\n";
  definitions.pop_back();
  if (!into_first_user) {
    if (!out.empty() && out[0].value("role", "") == "system") {
      const std::string existing = content_text(out[0]);
      out[0]["content"] = existing.empty() ? definitions : existing + "\n\n" + definitions;
    } else {
      out.insert(out.begin(), Json{{"role", "system"}, {"content", definitions}});
    }
    return out;
  }
  for (auto& m : out) {
    if (m.value("role", "") != "user") continue;
    m["content"] = definitions + "\n\n" + content_text(m);
    return out;
  }
  out.insert(out.begin(), Json{{"role", "user"}, {"content", definitions}});
  return out;
}

}  // namespace slmtune::chat
