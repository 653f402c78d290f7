#include "data/example.hpp"

#include <set>

namespace slmtune::data {

std::vector<std::vector<functions::FunctionCall>> Example::expected_calls() const {
  std::vector<std::vector<functions::FunctionCall>> out;
  for (const auto& m : messages)
    if (m.role == "assistant") out.push_back(m.calls);
  return out;
}

std::string Example::called_function_set() const {
  std::set<std::string> names;
  for (const auto& m : messages)
    for (const auto& c : m.calls) names.insert(c.name);
  if (names.empty()) return "(no call)";
  std::string key;
  for (const auto& n : names) key += (key.empty() ? "" : "+") + n;
  return key;
}

}  // namespace slmtune::data
