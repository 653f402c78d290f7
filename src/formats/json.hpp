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
// nlohmann's message without its "[json.exception.out_of_range.406] " tag, e.g. "number overflow
// parsing '1e99999'": for errors that are not syntax errors (a value nlohmann cannot hold).
std::string json_exception_reason(const nlohmann::json::exception& e);
// Dumps as Python's json.dumps(ensure_ascii=False) does with the default separators (", ", ": ").
std::string python_json_dumps(const Json& value);

// Where a JSON object embedded in free text (a model's or a teacher's answer) ends: one past the brace
// that closes the one opening at text[start] == '{', found by counting braces outside strings; npos
// when the text ends first (an answer cut off at its token limit). Brackets are not counted, so an
// object broken inside (`{"a": [}`) still ends at its own brace and the next object is found after it.
// Only the extent is found: parse_json judges the content.
size_t json_object_end(std::string_view text, size_t start);

}  // namespace slmtune
