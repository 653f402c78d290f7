#include "eval/call_matching.hpp"

namespace slmtune::eval {
namespace {

// The schema of one property of a function, or null when the function does not define it.
const Json* property_schema(const functions::FunctionDefinition* function, const std::string& name) {
  if (function == nullptr || !function->parameters.is_object()) return nullptr;
  auto properties = function->parameters.find("properties");
  if (properties == function->parameters.end() || !properties->is_object()) return nullptr;
  auto it = properties->find(name);
  return it == properties->end() ? nullptr : &*it;
}

// JSON Schema counts 2.0 as an integer; BFCL (and Python's isinstance) does not, and neither does a
// client that deserialises into an int. True when `value` holds a float where `schema` wants an
// integer, at any depth.
bool float_for_integer(const Json& schema, const Json& value) {
  if (!schema.is_object()) return false;
  if (auto type = schema.find("type"); type != schema.end() && value.is_number_float()) {
    bool integer = false, number = false;
    for (const Json& t : type->is_array() ? *type : Json::array({*type})) {
      integer = integer || t == "integer";
      number = number || t == "number";
    }
    if (integer && !number) return true;
  }
  if (value.is_object()) {
    auto properties = schema.find("properties");
    if (properties == schema.end() || !properties->is_object()) return false;
    for (const auto& [key, item] : value.items()) {
      auto it = properties->find(key);
      if (it != properties->end() && float_for_integer(*it, item)) return true;
    }
  } else if (value.is_array()) {
    auto items = schema.find("items");
    if (items == schema.end()) return false;
    for (const auto& item : value)
      if (float_for_integer(*items, item)) return true;
  }
  return false;
}

// JSON equality compares 2 and 2.0 as equal; the type checks keep an integer argument from being a
// float.
bool value_matches(const Json& expected, const Json& predicted, const Json* schema) {
  if (!(expected == predicted)) return false;
  return schema == nullptr || (functions::validate_value(*schema, predicted, "").empty() && !float_for_integer(*schema, predicted));
}

bool defines_argument(const std::vector<functions::FunctionDefinition>& functions, const std::string& name) {
  for (const auto& f : functions)
    if (property_schema(&f, name) != nullptr) return true;
  return false;
}

}  // namespace

bool call_matches(const functions::FunctionCall& expected, const functions::FunctionCall& predicted,
                  const std::vector<functions::FunctionDefinition>& functions) {
  if (expected.name != predicted.name || !predicted.arguments.is_object()) return false;
  const functions::FunctionDefinition* function = functions::find_function(functions, predicted.name);
  // Required arguments, unknown arguments, types and enums: the schema says it all.
  if (function != nullptr && (!functions::validate_value(function->parameters, predicted.arguments, "").empty() ||
                              float_for_integer(function->parameters, predicted.arguments)))
    return false;
  if (predicted.arguments.size() != expected.arguments.size()) return false;
  for (const auto& [name, value] : expected.arguments.items()) {
    auto it = predicted.arguments.find(name);
    if (it == predicted.arguments.end() || !value_matches(value, *it, property_schema(function, name))) return false;
  }
  return true;
}

std::string argument_label(const std::vector<functions::FunctionCall>& calls, const std::string& argument) {
  for (const auto& call : calls) {
    if (!call.arguments.is_object()) continue;
    auto it = call.arguments.find(argument);
    if (it != call.arguments.end()) return it->is_string() ? it->get<std::string>() : it->dump();
  }
  return kNoLabel;
}

TurnScore score_turn(const std::vector<functions::FunctionCall>& expected, const ParsedOutput& predicted,
                     const std::vector<functions::FunctionDefinition>& functions,
                     const std::string& confusion_argument) {
  TurnScore score;
  score.expects_call = !expected.empty();
  score.attempted_call = predicted.attempted_call;
  score.json_valid = predicted.json_valid;
  // A malformed output is scored as what it is: no usable call list. Calls that did parse next to a
  // broken one are not credited, as a client would reject the whole reply.
  const std::vector<functions::FunctionCall> none;
  const auto& calls = predicted.json_valid ? predicted.calls : none;

  if (!score.expects_call) {
    score.exact_match = !predicted.attempted_call;
    score.names_match = score.exact_match;
  } else {
    score.names_match = predicted.json_valid && calls.size() == expected.size();
    for (size_t i = 0; score.names_match && i < expected.size(); ++i)
      score.names_match = calls[i].name == expected[i].name;
    score.exact_match = predicted.json_valid && calls.size() == expected.size();
    for (size_t i = 0; score.exact_match && i < expected.size(); ++i)
      score.exact_match = call_matches(expected[i], calls[i], functions);
  }

  for (size_t i = 0; i < expected.size(); ++i) {
    const functions::FunctionDefinition* function = functions::find_function(functions, expected[i].name);
    for (const auto& [name, value] : expected[i].arguments.items()) {
      ArgumentResult result{name, false};
      if (i < calls.size() && calls[i].name == expected[i].name && calls[i].arguments.is_object()) {
        auto it = calls[i].arguments.find(name);
        result.correct = it != calls[i].arguments.end() && value_matches(value, *it, property_schema(function, name));
      }
      score.arguments.push_back(std::move(result));
    }
  }

  if (!confusion_argument.empty() && defines_argument(functions, confusion_argument)) {
    score.has_confusion = true;
    score.expected_label = argument_label(expected, confusion_argument);
    score.predicted_label = predicted.json_valid ? argument_label(calls, confusion_argument) : kInvalidLabel;
  }
  return score;
}

}  // namespace slmtune::eval
