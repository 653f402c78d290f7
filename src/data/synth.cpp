// Template expansion for `slmtune data synth`.
#include "data/synth.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <map>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "data/csv_writer.hpp"
#include "data/dataset.hpp"
#include "formats/json.hpp"

namespace slmtune::data {
namespace {

struct Case {
  std::vector<std::string> queries;
  Json calls = Json::array();
  std::string response;
};

struct Template {
  std::string functions;  // compact JSON of the definitions
  std::vector<std::string> variables;
  std::map<std::string, std::vector<std::string>> slots;
  std::vector<Case> cases;
};

Json yaml_to_json(const YAML::Node& node, const std::string& where) {
  if (node.IsMap()) {
    Json out = Json::object();
    for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second, where);
    return out;
  }
  if (node.IsSequence()) {
    Json out = Json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item, where));
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

Template load_template(const std::filesystem::path& path) {
  std::string origin = path.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(origin);
  } catch (const YAML::Exception& e) {
    fail("{}:{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (!root.IsMap()) fail("{}: expected a mapping with functions, slots and cases", origin);
  Template t;
  if (!root["functions"] || !root["functions"].IsScalar()) fail("{}: functions: expected the path of a functions.json", origin);
  auto functions_path = path.parent_path() / root["functions"].as<std::string>();
  Json defs = read_json_file(functions_path);
  functions::parse_function_definitions(defs, functions_path.string());  // fail early on bad definitions
  t.functions = defs.dump();
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
    Case c;
    c.queries = string_list(node["queries"], where + ".queries");
    if (node["calls"]) c.calls = yaml_to_json(node["calls"], where);
    if (node["response"]) c.response = node["response"].as<std::string>();
    if (!c.calls.is_array()) fail("{}.calls: expected a list of calls", where);
    if (c.calls.empty() && c.response.empty()) fail("{}: a case with no calls needs a response", where);
    t.cases.push_back(std::move(c));
  }
  return t;
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

std::set<std::string> excluded_keys(const std::vector<std::filesystem::path>& paths) {
  std::set<std::string> keys;
  for (const auto& path : paths) {
    Dataset dataset = load_dataset(path);
    for (const auto& error : dataset.errors) log::warn("{}", error);
    for (const auto& example : dataset.examples)
      for (const auto& message : example.messages)
        if (message.role == "user") keys.insert(dedup_key(message.content));
  }
  return keys;
}

}  // namespace

std::string dedup_key(const std::string& query) {
  std::string key;
  bool gap = false;
  for (unsigned char c : query) {
    bool word = std::isalnum(c) || c >= 0x80;
    if (!word) {
      gap = !key.empty();
      continue;
    }
    if (gap) key.push_back(' ');
    gap = false;
    key.push_back(static_cast<char>(std::tolower(c)));
  }
  return key;
}

SynthResult synthesize(const std::filesystem::path& template_path, const SynthOptions& options) {
  Template t = load_template(template_path);
  std::set<std::string> seen = excluded_keys(options.exclude);
  std::vector<std::string> header = {"function_definitions", "user_query", "function_call"};
  header.insert(header.end(), t.variables.begin(), t.variables.end());
  header.push_back("response");
  SynthResult result;
  result.csv = csv_record(header);
  Rng rng(options.seed);
  // Give up after many fruitless draws: the template has fewer distinct rows than asked for.
  size_t attempts = 0, max_attempts = 50 * options.count + 1000;
  while (result.rows < options.count && attempts++ < max_attempts) {
    const Case& c = t.cases[rng.below(t.cases.size())];
    std::map<std::string, std::string> values;
    for (const auto& [name, list] : t.slots) values[name] = list[rng.below(list.size())];
    std::string where = template_path.string();
    std::string query = fill(c.queries[rng.below(c.queries.size())], values, where);
    if (!seen.insert(dedup_key(query)).second) {
      ++result.duplicates;
      continue;
    }
    std::vector<std::string> row = {t.functions, query, fill_json(c.calls, values, where).dump()};
    for (const auto& variable : t.variables) row.push_back(values[variable]);
    row.push_back(c.calls.empty() ? fill(c.response, values, where) : "");
    result.csv += csv_record(row);
    ++result.rows;
  }
  if (result.rows < options.count)
    log::warn("{}: only {} distinct rows could be generated ({} asked)", template_path.string(), result.rows, options.count);
  // The generated rows go through the same validation as hand-written ones.
  Dataset check = parse_dataset(result.csv, DatasetFormat::csv, template_path.string() + " (generated)");
  if (!check.errors.empty()) fail("{}", check.errors.front());
  return result;
}

}  // namespace slmtune::data
