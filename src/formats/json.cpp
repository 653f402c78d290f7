#include "formats/json.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace slmtune {
namespace {
// nlohmann reports a byte offset; users need a line and column.
std::pair<size_t, size_t> line_and_column(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}
}  // namespace

Json parse_json(std::string_view text, const std::string& origin) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, column] = line_and_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string reason = e.what();
    if (const auto pos = reason.find("parse error"); pos != std::string::npos) reason = reason.substr(pos);
    fail("{}:{}:{}: invalid JSON: {}", origin, line, column, reason);
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but a value nlohmann cannot hold, e.g. an integer beyond 64 bits.
    fail("{}: invalid JSON: {}", origin, json_exception_reason(e));
  }
}

std::string json_exception_reason(const nlohmann::json::exception& e) {
  std::string reason = e.what();
  if (const auto pos = reason.find("] "); pos != std::string::npos) reason = reason.substr(pos + 2);
  return reason;
}

Json read_json_file(const std::filesystem::path& path) { return parse_json(read_file(path), path.string()); }

std::string python_json_dumps(const Json& value) {
  // nlohmann's compact dump uses "," and ":"; Python's default separators add a space after each.
  switch (value.type()) {
    case Json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ", ";
        first = false;
        out += python_json_dumps(item);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ", ";
        first = false;
        out += Json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out += ": ";
        out += python_json_dumps(item);
      }
      return out + "}";
    }
    default:
      return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

size_t json_object_end(std::string_view text, size_t start) {
  int64_t depth = 0;
  bool in_string = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace slmtune
