#include "tokenizer/tokenizer_config.hpp"

#include "core/error.hpp"

namespace slmtune::tokenizer {

namespace {

// transformers writes int(1e30) as model_max_length when a model sets no limit.
constexpr double kNoLimitPlaceholder = 1e20;

// A special token given as "<s>" or as an AddedToken object {"content": "<s>", ...}; null → unset.
std::optional<std::string> special_token(const Json& json, const char* key, const std::string& origin) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    const auto content = it->find("content");
    if (content != it->end() && content->is_string()) return content->get<std::string>();
    fail("{}: {}: expected an AddedToken object with a string \"content\"", origin, key);
  }
  fail("{}: {}: expected a string or an AddedToken object, found {}", origin, key, it->type_name());
}

std::optional<bool> optional_bool(const Json& json, const char* key, const std::string& origin) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) fail("{}: {}: expected true or false, found {}", origin, key, it->type_name());
  return it->get<bool>();
}

}  // namespace

const std::string* TokenizerConfig::chat_template(std::string_view name) const {
  for (const auto& entry : chat_templates)
    if (entry.name == name) return &entry.source;
  return nullptr;
}

void apply_tokenizer_config(TokenizerConfig& config, const Json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: expected a JSON object", origin);
  for (auto [key, slot] : {std::pair{"bos_token", &config.bos_token}, std::pair{"eos_token", &config.eos_token},
                           std::pair{"unk_token", &config.unk_token}, std::pair{"pad_token", &config.pad_token}}) {
    if (auto value = special_token(json, key, origin)) *slot = std::move(value);
  }
  if (auto value = optional_bool(json, "add_bos_token", origin)) config.add_bos_token = value;
  if (auto value = optional_bool(json, "add_eos_token", origin)) config.add_eos_token = value;

  if (const auto it = json.find("chat_template"); it != json.end() && !it->is_null()) {
    config.chat_templates.clear();
    if (it->is_string()) {
      config.chat_templates.push_back({"default", it->get<std::string>()});
    } else if (it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i) {
        const Json& entry = (*it)[i];
        if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") || !entry["name"].is_string() ||
            !entry["template"].is_string())
          fail("{}: chat_template[{}]: expected {{\"name\": string, \"template\": string}}", origin, i);
        config.chat_templates.push_back({entry["name"].get<std::string>(), entry["template"].get<std::string>()});
      }
    } else {
      fail("{}: chat_template: expected a string or a list of named templates, found {}", origin, it->type_name());
    }
  }

  if (const auto it = json.find("model_max_length"); it != json.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0) fail("{}: model_max_length: expected a non-negative number", origin);
    const double value = it->get<double>();
    if (value < kNoLimitPlaceholder) config.model_max_length = static_cast<uint64_t>(value);
  }
  if (const auto it = json.find("padding_side"); it != json.end() && !it->is_null()) {
    const std::string side = it->is_string() ? it->get<std::string>() : "";
    if (side == "left") config.padding_side = PaddingSide::left;
    else if (side == "right") config.padding_side = PaddingSide::right;
    else fail("{}: padding_side: expected \"left\" or \"right\"", origin);
  }
}

void apply_special_tokens_map(TokenizerConfig& config, const Json& json, const std::string& origin) {
  if (!json.is_object()) fail("{}: expected a JSON object", origin);
  // The config file wins; the map only fills gaps.
  for (auto [key, slot] : {std::pair{"bos_token", &config.bos_token}, std::pair{"eos_token", &config.eos_token},
                           std::pair{"unk_token", &config.unk_token}, std::pair{"pad_token", &config.pad_token}}) {
    if (!*slot) *slot = special_token(json, key, origin);
  }
}

TokenizerConfig read_tokenizer_config(const std::filesystem::path& config_file, const std::filesystem::path& special_tokens_map_file) {
  TokenizerConfig config;
  apply_tokenizer_config(config, read_json_file(config_file), config_file.string());
  if (!special_tokens_map_file.empty())
    apply_special_tokens_map(config, read_json_file(special_tokens_map_file), special_tokens_map_file.string());
  return config;
}

}  // namespace slmtune::tokenizer
