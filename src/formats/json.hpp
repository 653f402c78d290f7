#pragma once
// JSON through nlohmann-json (never a hand-rolled parser), with errors that name the file and the
// line and column where parsing stopped. ordered_json keeps keys in file order, as Python's json does:
// chat templates and tool schemas must see them in that order.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace slmtune {

using Json = nlohmann::ordered_json;

// Parses `text`; `origin` names it in errors ("config.json"). Errors give line:column.
Json parse_json(std::string_view text, const std::string& origin);
Json read_json_file(const std::filesystem::path& path);
// Dumps as Python's json.dumps(ensure_ascii=False) does with the default separators (", ", ": ").
std::string python_json_dumps(const Json& value);

}  // namespace slmtune
