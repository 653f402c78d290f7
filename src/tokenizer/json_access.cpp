#include "tokenizer/json_access.hpp"

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {
const char* kind(const JsonValue& value) { return value.type_name(); }
}  // namespace

JsonValue parse_large_json(std::string_view text, const std::string& origin) {
  try {
    return JsonValue::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception&) {
    // A syntax error or a number too large to hold: parse_json reports either in our one-line form.
    parse_json(text, origin);
    throw;
  }
}

JsonValue read_large_json(const std::filesystem::path& path) { return parse_large_json(read_file(path), path.string()); }

const JsonValue& json_member(const JsonValue& object, const char* key, const std::string& path) {
  if (!object.is_object()) fail("{}: expected an object, found {}", path, kind(object));
  const auto it = object.find(key);
  if (it == object.end()) fail("{}: missing member '{}'", path, key);
  return *it;
}

std::string json_string(const JsonValue& object, const char* key, const std::string& path) {
  const JsonValue& value = json_member(object, key, path);
  if (!value.is_string()) fail("{}.{}: expected a string, found {}", path, key, kind(value));
  return value.get<std::string>();
}

std::string json_char(const JsonValue& object, const char* key, const std::string& path) {
  std::string text = json_string(object, key, path);
  if (text.empty() || !is_valid_utf8(text) || utf8_length(static_cast<unsigned char>(text[0])) != text.size())
    fail("{}.{}: expected one character, found {:?}", path, key, text);
  return text;
}

std::string json_string_or(const JsonValue& object, const char* key, const std::string& path, std::string fallback) {
  if (!object.is_object()) fail("{}: expected an object, found {}", path, kind(object));
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_string()) fail("{}.{}: expected a string, found {}", path, key, kind(*it));
  return it->get<std::string>();
}

bool json_bool(const JsonValue& object, const char* key, const std::string& path, bool fallback) {
  if (!object.is_object()) fail("{}: expected an object, found {}", path, kind(object));
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail("{}.{}: expected true or false, found {}", path, key, kind(*it));
  return it->get<bool>();
}

int64_t json_int(const JsonValue& object, const char* key, const std::string& path) {
  const JsonValue& value = json_member(object, key, path);
  if (!value.is_number_integer()) fail("{}.{}: expected an integer, found {}", path, key, kind(value));
  return value.get<int64_t>();
}

const JsonValue& json_array(const JsonValue& object, const char* key, const std::string& path) {
  const JsonValue& value = json_member(object, key, path);
  if (!value.is_array()) fail("{}.{}: expected an array, found {}", path, key, kind(value));
  return value;
}

std::pair<bool, std::string> json_pattern(const JsonValue& object, const std::string& path) {
  const JsonValue& pattern = json_member(object, "pattern", path);
  const std::string where = path + ".pattern";
  if (pattern.is_object() && pattern.contains("Regex")) return {true, json_string(pattern, "Regex", where)};
  if (pattern.is_object() && pattern.contains("String")) return {false, json_string(pattern, "String", where)};
  fail("{}: expected {{\"String\": ...}} or {{\"Regex\": ...}}", where);
}

}  // namespace slmtune::tokenizer
