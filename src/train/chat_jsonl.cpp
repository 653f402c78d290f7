#include "train/chat_jsonl.hpp"

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace slmtune::train {
namespace {

ChatExample parse_line(std::string_view line, const std::string& where) {
  Json json;
  try {
    json = Json::parse(line);
  } catch (const Json::parse_error& e) {
    // nlohmann's byte position is within the line: report it as a column.
    fail("{}:{}: invalid JSON", where, e.byte);
  } catch (const Json::exception& e) {
    // Valid syntax holding a value nlohmann cannot store, e.g. an integer beyond 64 bits.
    fail("{}: invalid JSON: {}", where, json_exception_reason(e));
  }
  if (!json.is_object()) fail("{}: expected an object with \"messages\", got {}", where, json.type_name());
  for (const auto& [key, value] : json.items())
    if (key != "messages" && key != "tools")
      fail("{}: unexpected key \"{}\" (expected \"messages\" and optionally \"tools\")", where, key);
  const auto messages = json.find("messages");
  if (messages == json.end()) fail("{}: missing \"messages\"", where);
  if (!messages->is_array() || messages->empty()) fail("{}: \"messages\" must be a non-empty array", where);
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    if (!m.is_object()) fail("{}: messages[{}] must be an object", where, i);
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string()) fail("{}: messages[{}].role must be a string", where, i);
    const auto content = m.find("content");
    const bool has_calls = m.contains("tool_calls");
    if (content == m.end() && !has_calls) fail("{}: messages[{}] has neither \"content\" nor \"tool_calls\"", where, i);
  }
  ChatExample out{*messages, nullptr, where};
  if (const auto tools = json.find("tools"); tools != json.end() && !tools->is_null()) {
    if (!tools->is_array()) fail("{}: \"tools\" must be an array of tool schemas", where);
    out.tools = *tools;
  }
  return out;
}

}  // namespace

std::vector<ChatExample> parse_chat_jsonl(std::string_view text, const std::string& origin) {
  std::vector<ChatExample> out;
  size_t line_no = 0, at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    out.push_back(parse_line(line, fmt::format("{}:{}", origin, line_no)));
  }
  if (out.empty()) fail("{}: no examples (the file is empty)", origin);
  return out;
}

std::vector<ChatExample> read_chat_jsonl(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) fail("{}: no such data file", path.string());
  return parse_chat_jsonl(read_file(path), path.string());
}

}  // namespace slmtune::train
