// Finding JSON objects in free text, then reading each into a SynthRow.
#include "data/teacher_reply.hpp"

#include <fmt/format.h>

#include "formats/json.hpp"

namespace slmtune::data {
namespace {

constexpr std::string_view kQueryKey = "\"user_query\"";

TeacherCandidate read_candidate(const Json& object, const std::vector<std::string>& variables, size_t index) {
  TeacherCandidate candidate;
  candidate.index = index;
  auto reject = [&](std::string reason, std::string error) {
    candidate.reason = std::move(reason);
    candidate.error = std::move(error);
    return candidate;
  };
  const Json& query = object["user_query"];
  if (!query.is_string()) return reject("user_query not text", fmt::format("user_query: expected text, got {}", query.dump()));
  SynthRow row;
  row.query = query.get<std::string>();
  if (!object.contains("function_call")) return reject("no function_call", "no \"function_call\" key (expected a list of calls, [] for none)");
  const Json& calls = object["function_call"];
  if (calls.is_null()) {
    row.calls = Json::array();
  } else if (calls.is_string()) {
    // Some models write the list as a JSON string, as the article's CSV cell holds it.
    row.calls = Json::parse(calls.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (row.calls.is_discarded())
      return reject("function_call not JSON", fmt::format("function_call: expected a list of calls, got the text {}", calls.dump()));
  } else {
    row.calls = calls;
  }
  // A single call object is a list of one, as in datasets; anything else is no call list at all.
  if (!row.calls.is_array() && !row.calls.is_object())
    return reject("function_call not a list", fmt::format("function_call: expected a list of calls, got {}", calls.dump()));
  for (const auto& variable : variables) {
    const Json* value = object.contains(variable) ? &object[variable] : nullptr;
    if (!value || !value->is_string() || value->get<std::string>().empty())
      return reject("missing " + variable, fmt::format("\"{}\": expected a non-empty string, got {}", variable,
                                                        value ? value->dump() : "nothing"));
    row.variables[variable] = value->get<std::string>();
  }
  if (object.contains("response") && !object["response"].is_null()) {
    if (!object["response"].is_string())
      return reject("response not text", fmt::format("response: expected text, got {}", object["response"].dump()));
    row.response = object["response"].get<std::string>();
  }
  candidate.row = std::move(row);
  return candidate;
}

// The examples in one parsed JSON value: the value itself when it has a user_query, or the objects in
// its arrays (an answer shaped [{…}, …] or {"examples": [{…}, …]}).
void collect(const Json& value, const std::vector<std::string>& variables, std::vector<TeacherCandidate>& out) {
  auto consider = [&](const Json& item) {
    if (item.is_object() && item.contains("user_query")) out.push_back(read_candidate(item, variables, out.size() + 1));
  };
  if (value.is_object() && value.contains("user_query")) return consider(value);
  if (value.is_object())
    for (const auto& member : value)
      if (member.is_array())
        for (const auto& item : member) consider(item);
}

}  // namespace

std::vector<TeacherCandidate> parse_teacher_reply(std::string_view text, const std::vector<std::string>& variables) {
  std::vector<TeacherCandidate> out;
  size_t pos = 0;
  while ((pos = text.find('{', pos)) != std::string_view::npos) {
    size_t end = json_object_end(text, pos);
    std::string_view span = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    bool looks_like_example = span.find(kQueryKey) != std::string_view::npos;
    if (end == std::string_view::npos) {
      if (looks_like_example)
        out.push_back({out.size() + 1, std::nullopt, "cut off", "the answer ends inside this example (the token limit?)"});
      break;
    }
    Json value = Json::parse(span, nullptr, /*allow_exceptions=*/false);
    if (!value.is_discarded()) {
      collect(value, variables, out);
      pos = end;
      continue;
    }
    if (looks_like_example) {
      std::string shown(span.substr(0, 120));
      out.push_back({out.size() + 1, std::nullopt, "not JSON", fmt::format("not valid JSON: {}", shown)});
      pos = end;
      continue;
    }
    // A brace in prose ("{like this}"), not an example: look further inside it.
    ++pos;
  }
  return out;
}

}  // namespace slmtune::data
