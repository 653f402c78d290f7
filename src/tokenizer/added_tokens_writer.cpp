#include "tokenizer/added_tokens_writer.hpp"

#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"

namespace slmtune::tokenizer {
namespace {

Json read_object(const std::filesystem::path& path) {
  Json json;
  try {
    json = Json::parse(read_file(path));
  } catch (const Json::exception& e) {
    fail("{}: not valid JSON ({})", path.string(), e.what());
  }
  if (!json.is_object()) fail("{}: expected a JSON object at the top level", path.string());
  return json;
}

Json flags(const AddedToken& token) {
  return Json{{"content", token.content}, {"single_word", token.single_word}, {"lstrip", token.lstrip},
              {"rstrip", token.rstrip},   {"normalized", token.normalized},   {"special", token.special}};
}

}  // namespace

size_t write_added_tokens(const std::filesystem::path& dir, const std::vector<AddedToken>& tokens,
                          const std::optional<std::string>& pad_token) {
  size_t written = 0;
  const auto tokenizer_json = dir / "tokenizer.json";
  if (std::filesystem::is_regular_file(tokenizer_json)) {
    Json json = read_object(tokenizer_json);
    Json& added = json["added_tokens"];
    if (added.is_null()) added = Json::array();
    if (!added.is_array()) fail("{}: \"added_tokens\" is not an array", tokenizer_json.string());
    std::set<int64_t> present;
    for (const auto& entry : added)
      if (entry.is_object() && entry.contains("id") && entry["id"].is_number_integer()) present.insert(entry["id"].get<int64_t>());
    for (const auto& token : tokens) {
      if (present.count(token.id)) continue;
      Json entry = flags(token);
      entry["id"] = token.id;
      added.push_back(std::move(entry));
      ++written;
    }
    write_file_atomically(tokenizer_json, json.dump(2) + "\n");
  }
  const auto config_json = dir / "tokenizer_config.json";
  if (std::filesystem::is_regular_file(config_json)) {
    Json json = read_object(config_json);
    Json& decoder = json["added_tokens_decoder"];
    if (decoder.is_null()) decoder = Json::object();
    if (!decoder.is_object()) fail("{}: \"added_tokens_decoder\" is not an object", config_json.string());
    for (const auto& token : tokens) {
      const std::string key = std::to_string(token.id);
      if (!decoder.contains(key)) decoder[key] = flags(token);
    }
    if (pad_token) json["pad_token"] = *pad_token;
    write_file_atomically(config_json, json.dump(2) + "\n");
  }
  return written;
}

}  // namespace slmtune::tokenizer
