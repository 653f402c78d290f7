// Loading and expanding the template file of `slmtune data synth`.
#include "data/synth_template.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "functions/function_schema.hpp"

namespace slmtune::data {
namespace {

Json yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    Json out = Json::object();
    for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
    return out;
  }
  if (node.IsSequence()) {
    Json out = Json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  std::string text = node.Scalar();
  // Plain YAML scalars that look like numbers or booleans keep those types, quoted ones stay strings.
  if (node.Tag() != "!") {
    if (text == "true" || text == "false") return text == "true";
    try {
      size_t used = 0;
      long long i = std::stoll(text, &used);
      if (used == text.size()) return i;
      double d = std::stod(text, &used);
      if (used == text.size()) return d;
    } catch (const std::exception&) {
    }
  }
  return text;
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& where) {
  if (!node || !node.IsSequence() || node.size() == 0) fail("{}: expected a non-empty list of strings", where);
  std::vector<std::string> out;
  for (const auto& item : node) {
    if (!item.IsScalar()) fail("{}: expected a list of strings", where);
    out.push_back(item.as<std::string>());
  }
  return out;
}

std::string fill(const std::string& text, const std::map<std::string, std::string>& values, const std::string& where) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    size_t close = open == std::string::npos ? open : text.find('}', open);
    if (close == std::string::npos) break;
    auto it = values.find(text.substr(open + 1, close - open - 1));
    if (it == values.end()) fail("{}: \"{}\" names no slot", where, text.substr(open, close - open + 1));
    out.append(text, pos, open - pos);
    out += it->second;
    pos = close + 1;
  }
  out.append(text, pos);
  return out;
}

Json fill_json(const Json& value, const std::map<std::string, std::string>& values, const std::string& where) {
  if (value.is_string()) return fill(value.get<std::string>(), values, where);
  if (value.is_structured()) {
    Json out = value;
    for (auto& item : out) item = fill_json(item, values, where);
    return out;
  }
  return value;
}

}  // namespace

SynthTemplate load_synth_template(const std::filesystem::path& path) {
  std::string origin = path.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(origin);
  } catch (const YAML::Exception& e) {
    fail("{}:{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (!root.IsMap()) fail("{}: expected a mapping with functions, slots and cases", origin);
  SynthTemplate t;
  t.path = path;
  if (!root["functions"] || !root["functions"].IsScalar()) fail("{}: functions: expected the path of a functions.json", origin);
  auto functions_path = path.parent_path() / root["functions"].as<std::string>();
  t.functions = read_json_file(functions_path);
  functions::parse_function_definitions(t.functions, functions_path.string());  // fail early on bad definitions
  if (root["policy"]) {
    if (!root["policy"].IsScalar()) fail("{}: policy: expected the path of the labelling policy (e.g. POLICY.md)", origin);
    t.policy = read_file(path.parent_path() / root["policy"].as<std::string>());
  }
  if (root["variables"]) t.variables = string_list(root["variables"], origin + ": variables");
  if (root["slots"]) {
    if (!root["slots"].IsMap()) fail("{}: slots: expected a mapping of slot name to a list of values", origin);
    for (const auto& slot : root["slots"]) {
      std::string name = slot.first.as<std::string>();
      t.slots[name] = string_list(slot.second, fmt::format("{}: slots.{}", origin, name));
    }
  }
  for (const auto& variable : t.variables)
    if (!t.slots.count(variable)) fail("{}: variables: \"{}\" has no slot with its values", origin, variable);
  if (!root["cases"] || !root["cases"].IsSequence() || root["cases"].size() == 0)
    fail("{}: cases: expected a non-empty list", origin);
  for (size_t i = 0; i < root["cases"].size(); ++i) {
    const YAML::Node& node = root["cases"][i];
    std::string where = fmt::format("{}: cases[{}]", origin, i);
    SynthCase c;
    c.queries = string_list(node["queries"], where + ".queries");
    if (node["calls"]) c.calls = yaml_to_json(node["calls"]);
    if (node["response"]) c.response = node["response"].as<std::string>();
    if (!c.calls.is_array()) fail("{}.calls: expected a list of calls", where);
    if (c.calls.empty() && c.response.empty()) fail("{}: a case with no calls needs a response", where);
    t.cases.push_back(std::move(c));
  }
  return t;
}

SynthRow expand_case(const SynthTemplate& t, size_t index, Rng& rng) {
  const SynthCase& c = t.cases.at(index);
  std::map<std::string, std::string> values;
  for (const auto& [name, list] : t.slots) values[name] = list[rng.below(list.size())];
  std::string where = t.path.string();
  SynthRow row;
  row.query = fill(c.queries[rng.below(c.queries.size())], values, where);
  row.calls = fill_json(c.calls, values, where);
  for (const auto& variable : t.variables) row.variables[variable] = values[variable];
  if (c.calls.empty()) row.response = fill(c.response, values, where);
  return row;
}

std::vector<std::string> synth_csv_header(const SynthTemplate& t) {
  std::vector<std::string> header = {"function_definitions", "user_query", "function_call"};
  header.insert(header.end(), t.variables.begin(), t.variables.end());
  header.push_back("response");
  return header;
}

std::vector<std::string> synth_csv_cells(const SynthTemplate& t, const SynthRow& row) {
  std::vector<std::string> cells = {t.functions.dump(), row.query, row.calls.dump()};
  for (const auto& variable : t.variables) {
    auto it = row.variables.find(variable);
    cells.push_back(it == row.variables.end() ? "" : it->second);
  }
  cells.push_back(row.response);
  return cells;
}

}  // namespace slmtune::data
