#pragma once
// Calls of functions: parsing them from JSON as datasets and models write them, checking them against
// their definitions, and printing them in one canonical form.
#include <string>
#include <string_view>
#include <vector>

#include "formats/json.hpp"
#include "functions/function_schema.hpp"

namespace slmtune::functions {

struct FunctionCall {
  std::string name;
  Json arguments = Json::object();
  bool operator==(const FunctionCall& other) const { return name == other.name && arguments == other.arguments; }
};

// A list of {"name", "arguments"} (or a single such object; OpenAI's {"type": "function", "function":
// {...}} tool_calls entries too). `arguments` may be an object or a JSON string holding one, as the
// OpenAI API sends them. Errors are prefixed with `origin`.
std::vector<FunctionCall> parse_calls(const Json& value, const std::string& origin);
std::vector<FunctionCall> parse_calls_text(std::string_view text, const std::string& origin);

// Every problem with `calls` against `functions`: an undefined function, arguments that do not satisfy
// its parameters schema. Each message names the call, the function and the argument.
std::vector<std::string> check_calls(const std::vector<FunctionCall>& calls,
                                     const std::vector<FunctionDefinition>& functions);

// [{"name": ..., "arguments": {...}}, ...] with keys in the order given, compact separators.
std::string format_calls(const std::vector<FunctionCall>& calls);
Json calls_to_json(const std::vector<FunctionCall>& calls);

}  // namespace slmtune::functions
