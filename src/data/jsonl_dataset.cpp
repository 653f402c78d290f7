// Chat JSONL datasets: one conversation per line, OpenAI-style messages and tools.
#include <fmt/format.h>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace slmtune::data {

void add_system_message(Example& example, const LoadOptions& options, const std::string& where,
                        std::vector<std::string>& errors);

namespace {

std::string string_field(const Json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) fail("{}: \"{}\" must be a string, got {}", where, key, it->type_name());
  return it->get<std::string>();
}

Message parse_message(const Json& value, const std::string& where) {
  if (!value.is_object()) fail("{}: expected a message object, got {}", where, value.type_name());
  Message message;
  message.role = string_field(value, "role", where);
  if (message.role != "system" && message.role != "user" && message.role != "assistant" && message.role != "tool")
    fail("{}: \"role\" must be system, user, assistant or tool, got \"{}\"", where, message.role);
  message.content = string_field(value, "content", where);
  message.tool_call_id = string_field(value, "tool_call_id", where);
  if (auto it = value.find("tool_calls"); it != value.end() && !it->is_null()) {
    if (message.role != "assistant") fail("{}: only assistant messages may have \"tool_calls\"", where);
    message.calls = functions::parse_calls(*it, where + ".tool_calls");
  }
  if (message.role == "user" && message.content.empty()) fail("{}: expected the user's message in \"content\", got none", where);
  return message;
}

}  // namespace

Dataset parse_jsonl_dataset(std::string_view text, const std::string& origin, const LoadOptions& options) {
  Dataset dataset;
  dataset.format = DatasetFormat::jsonl;
  dataset.origin = origin;
  size_t line_number = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    ++dataset.rows;
    std::string at = fmt::format("{}:{}", origin, line_number);
    size_t errors_before = dataset.errors.size();
    Example example;
    example.source = origin;
    example.line = line_number;
    try {
      Json row = parse_json(line, at);
      if (!row.is_object()) fail("{}: expected an object {{\"messages\": [...], \"tools\": [...]}}", at);
      for (const auto& [key, unused] : row.items())
        if (key != "messages" && key != "tools" && key != "variables")
          fail("{}: unexpected key \"{}\" (expected messages, tools, variables)", at, key);
      if (auto it = row.find("tools"); it != row.end())
        example.tools = functions::parse_function_definitions(*it, at + ": tools");
      if (auto it = row.find("variables"); it != row.end()) {
        if (!it->is_object()) fail("{}: variables: expected an object of strings", at);
        for (const auto& [key, value] : it->items()) {
          if (!value.is_string()) fail("{}: variables.{}: expected a string, got {}", at, key, value.type_name());
          example.variables[key] = value.get<std::string>();
        }
      }
      auto messages = row.find("messages");
      if (messages == row.end() || !messages->is_array() || messages->empty())
        fail("{}: messages: expected a non-empty list of messages", at);
      for (size_t i = 0; i < messages->size(); ++i)
        example.messages.push_back(parse_message((*messages)[i], fmt::format("{}: messages[{}]", at, i)));
      bool has_assistant = false;
      for (size_t i = 0; i < example.messages.size(); ++i) {
        if (example.messages[i].role != "assistant") continue;
        has_assistant = true;
        if (example.messages[i].calls.empty() && example.messages[i].content.empty())
          dataset.errors.push_back(fmt::format("{}: messages[{}]: an assistant turn needs content or tool_calls", at, i));
        for (auto& message : functions::check_calls(example.messages[i].calls, example.tools))
          dataset.errors.push_back(fmt::format("{}: messages[{}].tool_calls: {}", at, i, message));
      }
      if (!has_assistant) dataset.errors.push_back(fmt::format("{}: messages: expected at least one assistant turn to learn", at));
      add_system_message(example, options, at, dataset.errors);
    } catch (const Error& e) {
      dataset.errors.push_back(e.what());
    }
    if (dataset.errors.size() == errors_before) {
      dataset.examples.push_back(std::move(example));
      dataset.jsonl_lines.emplace_back(line);
    }
  }
  return dataset;
}

}  // namespace slmtune::data
