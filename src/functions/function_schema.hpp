#pragma once
// Function definitions as a JSON-schema model: the one place the schema of a callable function lives
// (DESIGN.md). Datasets validate their rows through it, the decoding grammar and the evaluator read it.
// Accepts the OpenAI form {"type": "function", "function": {...}} and the bare {"name", "description",
// "parameters"} form.
#include <string>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::functions {

struct FunctionDefinition {
  std::string name;
  std::string description;
  Json parameters;  // a JSON schema; {"type": "object", "properties": {}} when the definition has none
};

// `origin` prefixes errors ("train.csv:12: function_definitions").
FunctionDefinition parse_function_definition(const Json& value, const std::string& origin);
// A list of definitions (or a single one); names must be unique.
std::vector<FunctionDefinition> parse_function_definitions(const Json& value, const std::string& origin);
const FunctionDefinition* find_function(const std::vector<FunctionDefinition>& functions,
                                        const std::string& name);
// The OpenAI tools form {"type": "function", "function": {...}}, as chat templates expect `tools`.
Json to_tool_json(const FunctionDefinition& function);

// Checks `value` against `schema` (the subset of JSON Schema that function definitions use: type incl.
// integer vs number, enum, const, properties/required/additionalProperties, items, min/max, minLength/
// maxLength, minItems/maxItems, anyOf/oneOf). Returns every problem found, each naming the JSON path
// under `path` ("location", "items[2].name") and what was expected; empty when the value is valid.
// Unknown properties are rejected unless the schema sets additionalProperties to true or a schema.
std::vector<std::string> validate_value(const Json& schema, const Json& value, const std::string& path);

}  // namespace slmtune::functions
