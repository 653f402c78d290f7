// Function definitions and the JSON-schema subset their parameters use.
#include "functions/function_schema.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "core/error.hpp"

namespace slmtune::functions {
namespace {

// Function schemas are a few levels deep; a bound keeps hostile input from exhausting the stack.
constexpr int kMaxSchemaDepth = 64;

const std::set<std::string> kTypes = {"string", "number", "integer", "boolean", "object", "array", "null"};

std::string brief(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// A schema that is itself malformed is a definition error, reported once when it is loaded rather
// than as a confusing mismatch on every row.
void check_schema(const Json& schema, const std::string& where, int depth = 0) {
  if (depth > kMaxSchemaDepth) fail("{}: schema nested deeper than {} levels", where, kMaxSchemaDepth);
  if (schema.is_boolean()) return;
  if (!schema.is_object()) fail("{}: expected a schema object, got {}", where, brief(schema));
  if (auto it = schema.find("type"); it != schema.end()) {
    auto check_type = [&](const Json& t) {
      if (!t.is_string() || !kTypes.count(t.get<std::string>()))
        fail("{}: \"type\" must be one of string, number, integer, boolean, object, array, null; got {}", where,
             brief(t));
    };
    if (it->is_array()) {
      for (const auto& t : *it) check_type(t);
    } else {
      check_type(*it);
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && (!it->is_array() || it->empty()))
    fail("{}: \"enum\" must be a non-empty array", where);
  if (auto it = schema.find("properties"); it != schema.end()) {
    if (!it->is_object()) fail("{}: \"properties\" must be an object", where);
    for (const auto& [key, sub] : it->items()) check_schema(sub, join_path(where, key), depth + 1);
  }
  if (auto it = schema.find("required"); it != schema.end()) {
    if (!it->is_array()) fail("{}: \"required\" must be an array of property names", where);
    for (const auto& r : *it)
      if (!r.is_string()) fail("{}: \"required\" must list strings, got {}", where, brief(r));
  }
  if (auto it = schema.find("items"); it != schema.end()) check_schema(*it, where + "[]", depth + 1);
  if (auto it = schema.find("additionalProperties"); it != schema.end() && !it->is_boolean())
    check_schema(*it, where + ".*", depth + 1);
  for (const char* combiner : {"anyOf", "oneOf", "allOf"}) {
    if (auto it = schema.find(combiner); it != schema.end()) {
      if (!it->is_array() || it->empty()) fail("{}: \"{}\" must be a non-empty array of schemas", where, combiner);
      for (const auto& sub : *it) check_schema(sub, where, depth + 1);
    }
  }
}

bool is_integral(const Json& value) {
  if (value.is_number_integer()) return true;
  if (!value.is_number_float()) return false;
  double d = value.get<double>();
  return std::isfinite(d) && std::floor(d) == d;  // JSON Schema: 1.0 is an integer
}

bool has_type(const Json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "number") return value.is_number();
  if (type == "integer") return is_integral(value);
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return value.is_null();
}

std::string json_type_name(const Json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number_float()) return "number";
  if (value.is_boolean()) return "boolean";
  return value.type_name();
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string where(const std::string& path) { return path.empty() ? "arguments" : "argument \"" + path + "\""; }

void validate_into(const Json& schema, const Json& value, const std::string& path, std::vector<std::string>& errors,
                   int depth);

void validate_number(const Json& schema, const Json& value, const std::string& path, std::vector<std::string>& errors) {
  double v = value.get<double>();
  auto bound = [&](const char* key) -> const Json* {
    auto it = schema.find(key);
    return it != schema.end() && it->is_number() ? &*it : nullptr;
  };
  if (auto* b = bound("minimum"); b && v < b->get<double>())
    errors.push_back(fmt::format("{}: expected a value >= {}, got {}", where(path), brief(*b), brief(value)));
  if (auto* b = bound("maximum"); b && v > b->get<double>())
    errors.push_back(fmt::format("{}: expected a value <= {}, got {}", where(path), brief(*b), brief(value)));
  if (auto* b = bound("exclusiveMinimum"); b && v <= b->get<double>())
    errors.push_back(fmt::format("{}: expected a value > {}, got {}", where(path), brief(*b), brief(value)));
  if (auto* b = bound("exclusiveMaximum"); b && v >= b->get<double>())
    errors.push_back(fmt::format("{}: expected a value < {}, got {}", where(path), brief(*b), brief(value)));
}

void validate_object(const Json& schema, const Json& value, const std::string& path, std::vector<std::string>& errors,
                     int depth) {
  static const Json kEmpty = Json::object();
  auto props_it = schema.find("properties");
  const Json& properties = props_it != schema.end() ? *props_it : kEmpty;
  if (auto it = schema.find("required"); it != schema.end()) {
    for (const auto& name : *it) {
      if (!value.contains(name.get<std::string>()))
        errors.push_back(fmt::format("{}: missing required argument \"{}\"", where(path), name.get<std::string>()));
    }
  }
  auto additional = schema.find("additionalProperties");
  for (const auto& [key, sub] : value.items()) {
    std::string child = join_path(path, key);
    if (auto p = properties.find(key); p != properties.end()) {
      validate_into(*p, sub, child, errors, depth + 1);
    } else if (additional != schema.end() && additional->is_object()) {
      validate_into(*additional, sub, child, errors, depth + 1);
    } else if (additional == schema.end() || *additional == false) {
      std::string known;
      for (const auto& [name, unused] : properties.items()) known += (known.empty() ? "" : ", ") + name;
      errors.push_back(fmt::format("{}: unknown argument \"{}\" (expected one of: {})", where(path), key,
                                   known.empty() ? "none" : known));
    }
  }
}

void validate_into(const Json& schema, const Json& value, const std::string& path, std::vector<std::string>& errors,
                   int depth) {
  if (depth > kMaxSchemaDepth) {
    errors.push_back(fmt::format("{}: schema nested deeper than {} levels", where(path), kMaxSchemaDepth));
    return;
  }
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) errors.push_back(fmt::format("{}: no value is allowed here", where(path)));
    return;
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    std::string expected;
    if (it->is_array()) {
      for (const auto& t : *it) {
        ok = ok || has_type(value, t.get<std::string>());
        expected += (expected.empty() ? "" : " or ") + t.get<std::string>();
      }
    } else {
      expected = it->get<std::string>();
      ok = has_type(value, expected);
    }
    if (!ok) {
      errors.push_back(fmt::format("{}: expected {}, got {} {}", where(path), expected, json_type_name(value), brief(value)));
      return;  // the remaining keywords would only repeat the type mismatch
    }
  }
  if (auto it = schema.find("enum"); it != schema.end()) {
    bool found = false;
    for (const auto& allowed : *it) found = found || allowed == value;
    if (!found) {
      std::string list;
      for (const auto& allowed : *it) list += (list.empty() ? "" : ", ") + brief(allowed);
      errors.push_back(fmt::format("{}: {} is not one of [{}]", where(path), brief(value), list));
    }
  }
  if (auto it = schema.find("const"); it != schema.end() && *it != value)
    errors.push_back(fmt::format("{}: expected {}, got {}", where(path), brief(*it), brief(value)));
  if (value.is_number()) validate_number(schema, value, path, errors);
  if (value.is_string()) {
    size_t n = code_points(value.get_ref<const std::string&>());
    if (auto it = schema.find("minLength"); it != schema.end() && it->is_number_unsigned() && n < it->get<size_t>())
      errors.push_back(fmt::format("{}: expected at least {} characters, got {}", where(path), it->get<size_t>(), n));
    if (auto it = schema.find("maxLength"); it != schema.end() && it->is_number_unsigned() && n > it->get<size_t>())
      errors.push_back(fmt::format("{}: expected at most {} characters, got {}", where(path), it->get<size_t>(), n));
  }
  if (value.is_array()) {
    if (auto it = schema.find("minItems"); it != schema.end() && it->is_number_unsigned() && value.size() < it->get<size_t>())
      errors.push_back(fmt::format("{}: expected at least {} items, got {}", where(path), it->get<size_t>(), value.size()));
    if (auto it = schema.find("maxItems"); it != schema.end() && it->is_number_unsigned() && value.size() > it->get<size_t>())
      errors.push_back(fmt::format("{}: expected at most {} items, got {}", where(path), it->get<size_t>(), value.size()));
    if (auto it = schema.find("items"); it != schema.end())
      for (size_t i = 0; i < value.size(); ++i) validate_into(*it, value[i], fmt::format("{}[{}]", path, i), errors, depth + 1);
  }
  if (value.is_object()) validate_object(schema, value, path, errors, depth);
  if (auto it = schema.find("allOf"); it != schema.end())
    for (const auto& sub : *it) validate_into(sub, value, path, errors, depth + 1);
  for (const char* combiner : {"anyOf", "oneOf"}) {
    auto it = schema.find(combiner);
    if (it == schema.end()) continue;
    size_t matches = 0;
    for (const auto& sub : *it) {
      std::vector<std::string> sub_errors;
      validate_into(sub, value, path, sub_errors, depth + 1);
      matches += sub_errors.empty();
    }
    bool one_of = std::string(combiner) == "oneOf";
    if (matches == 0 || (one_of && matches > 1))
      errors.push_back(fmt::format("{}: {} must match {} of the {} schemas in {}, matched {}", where(path), brief(value),
                                   one_of ? "exactly one" : "at least one", it->size(), combiner, matches));
  }
}

}  // namespace

FunctionDefinition parse_function_definition(const Json& value, const std::string& origin) {
  if (!value.is_object()) fail("{}: expected a function definition object, got {}", origin, brief(value));
  const Json* body = &value;
  if (auto it = value.find("function"); it != value.end()) {
    if (auto type = value.find("type"); type != value.end() && *type != "function")
      fail("{}: tool \"type\" must be \"function\", got {}", origin, brief(*type));
    body = &*it;
    if (!body->is_object()) fail("{}: \"function\" must be an object, got {}", origin, brief(*body));
  }
  FunctionDefinition def;
  auto name = body->find("name");
  if (name == body->end() || !name->is_string() || name->get_ref<const std::string&>().empty())
    fail("{}: function definition needs a non-empty string \"name\"", origin);
  def.name = name->get<std::string>();
  std::string here = fmt::format("{}: function \"{}\"", origin, def.name);
  if (auto it = body->find("description"); it != body->end()) {
    if (!it->is_string()) fail("{}: \"description\" must be a string", here);
    def.description = it->get<std::string>();
  }
  def.parameters = Json{{"type", "object"}, {"properties", Json::object()}};
  if (auto it = body->find("parameters"); it != body->end()) {
    if (!it->is_object()) fail("{}: \"parameters\" must be a JSON schema object", here);
    if (auto t = it->find("type"); t != it->end() && *t != "object")
      fail("{}: parameters \"type\" must be \"object\", got {}", here, brief(*t));
    check_schema(*it, here + " parameters");
    def.parameters = *it;
  }
  return def;
}

std::vector<FunctionDefinition> parse_function_definitions(const Json& value, const std::string& origin) {
  std::vector<FunctionDefinition> out;
  if (value.is_object()) {
    out.push_back(parse_function_definition(value, origin));
    return out;
  }
  if (!value.is_array()) fail("{}: expected a list of function definitions, got {}", origin, brief(value));
  for (size_t i = 0; i < value.size(); ++i) {
    auto def = parse_function_definition(value[i], fmt::format("{}[{}]", origin, i));
    if (find_function(out, def.name)) fail("{}[{}]: function \"{}\" is defined twice", origin, i, def.name);
    out.push_back(std::move(def));
  }
  return out;
}

const FunctionDefinition* find_function(const std::vector<FunctionDefinition>& functions, const std::string& name) {
  for (const auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

Json to_tool_json(const FunctionDefinition& function) {
  Json body = Json::object();
  body["name"] = function.name;
  if (!function.description.empty()) body["description"] = function.description;
  body["parameters"] = function.parameters;
  return Json{{"type", "function"}, {"function", body}};
}

std::vector<std::string> validate_value(const Json& schema, const Json& value, const std::string& path) {
  std::vector<std::string> errors;
  validate_into(schema, value, path, errors, 0);
  return errors;
}

}  // namespace slmtune::functions
