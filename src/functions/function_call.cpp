// Parsing, checking and printing function calls.
#include "functions/function_call.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace slmtune::functions {
namespace {

FunctionCall parse_call(const Json& value, const std::string& origin) {
  if (!value.is_object()) fail("{}: expected a call object {{\"name\", \"arguments\"}}, got {}", origin, value.dump());
  const Json* body = &value;
  if (auto it = value.find("function"); it != value.end() && it->is_object()) body = &*it;  // OpenAI tool_calls entry
  FunctionCall call;
  auto name = body->find("name");
  if (name == body->end() || !name->is_string() || name->get_ref<const std::string&>().empty())
    fail("{}: call needs a non-empty string \"name\"", origin);
  call.name = name->get<std::string>();
  for (const auto& [key, unused] : body->items()) {
    if (key != "name" && key != "arguments" && key != "parameters")
      fail("{}: call \"{}\" has unexpected key \"{}\" (expected name, arguments)", origin, call.name, key);
  }
  auto args = body->find("arguments");
  if (args == body->end()) args = body->find("parameters");
  if (args == body->end()) return call;
  if (args->is_string()) {
    // OpenAI sends arguments as a JSON string.
    Json parsed = parse_json(args->get_ref<const std::string&>(), fmt::format("{}: call \"{}\" arguments", origin, call.name));
    call.arguments = std::move(parsed);
  } else {
    call.arguments = *args;
  }
  if (!call.arguments.is_object())
    fail("{}: call \"{}\": \"arguments\" must be an object, got {}", origin, call.name, call.arguments.dump());
  return call;
}

}  // namespace

std::vector<FunctionCall> parse_calls(const Json& value, const std::string& origin) {
  std::vector<FunctionCall> calls;
  if (value.is_object()) {
    calls.push_back(parse_call(value, origin));
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) calls.push_back(parse_call(value[i], fmt::format("{}[{}]", origin, i)));
  } else if (!value.is_null()) {
    fail("{}: expected a list of calls, got {}", origin, value.dump());
  }
  return calls;
}

std::vector<FunctionCall> parse_calls_text(std::string_view text, const std::string& origin) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};  // an empty cell: a turn that needs no call
  return parse_calls(parse_json(text, origin), origin);
}

std::vector<std::string> check_calls(const std::vector<FunctionCall>& calls, const std::vector<FunctionDefinition>& functions) {
  std::vector<std::string> errors;
  for (size_t i = 0; i < calls.size(); ++i) {
    const FunctionDefinition* def = find_function(functions, calls[i].name);
    if (!def) {
      std::string known;
      for (const auto& f : functions) known += (known.empty() ? "" : ", ") + f.name;
      errors.push_back(fmt::format("call {}: function \"{}\" is not defined (defined: {})", i, calls[i].name,
                                   known.empty() ? "none" : known));
      continue;
    }
    for (auto& message : validate_value(def->parameters, calls[i].arguments, ""))
      errors.push_back(fmt::format("call {} to \"{}\": {}", i, def->name, message));
  }
  return errors;
}

Json calls_to_json(const std::vector<FunctionCall>& calls) {
  Json out = Json::array();
  for (const auto& call : calls) out.push_back(Json{{"name", call.name}, {"arguments", call.arguments}});
  return out;
}

std::string format_calls(const std::vector<FunctionCall>& calls) { return calls_to_json(calls).dump(); }

}  // namespace slmtune::functions
