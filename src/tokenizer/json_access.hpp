#pragma once
// Typed access to tokenizer.json members whose errors name the JSON path and what was expected.
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "formats/json.hpp"

namespace slmtune::tokenizer {

// Vocabulary files hold 10^5 keys; the insertion-ordered Json type checks every key against all
// earlier ones, so they are parsed into nlohmann's sorted-map type instead (order is not needed:
// ids are explicit and arrays keep their order).
using JsonValue = nlohmann::json;
// Errors give file:line:column like parse_json.
JsonValue parse_large_json(std::string_view text, const std::string& origin);
JsonValue read_large_json(const std::filesystem::path& path);

const JsonValue& json_member(const JsonValue& object, const char* key, const std::string& path);
std::string json_string(const JsonValue& object, const char* key, const std::string& path);
// A string member that may be missing or null.
std::string json_string_or(const JsonValue& object, const char* key, const std::string& path, std::string fallback);
// A string member holding exactly one Unicode character, as HF's Rust `char` fields do (Metaspace's
// replacement): an empty one would make a splitter find it at every position forever.
std::string json_char(const JsonValue& object, const char* key, const std::string& path);
bool json_bool(const JsonValue& object, const char* key, const std::string& path, bool fallback);
int64_t json_int(const JsonValue& object, const char* key, const std::string& path);
const JsonValue& json_array(const JsonValue& object, const char* key, const std::string& path);
// HF's pattern member: {"String": "..."} or {"Regex": "..."} → (is_regex, text).
std::pair<bool, std::string> json_pattern(const JsonValue& object, const std::string& path);

}  // namespace slmtune::tokenizer
