#include "chat/template_source.hpp"

#include "chat/builtin_templates.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/gguf.hpp"
#include "formats/json.hpp"

namespace slmtune::chat {
namespace {

// A special token in tokenizer_config.json is a string or an AddedToken object {"content": ...}.
std::optional<std::string> token_text(const Json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const Json& t = config[key];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_object() && t.contains("content") && t["content"].is_string()) return t["content"].get<std::string>();
  return std::nullopt;
}

ModelTemplate from_tokenizer_config(const std::filesystem::path& path, const std::string& name) {
  const Json config = read_json_file(path);
  if (!config.is_object()) fail("{}: expected a JSON object", path.string());
  ModelTemplate out;
  out.origin = path.string();
  out.tokens = SpecialTokens{token_text(config, "bos_token"), token_text(config, "eos_token"),
                             token_text(config, "pad_token"), token_text(config, "unk_token")};
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
    out.tokenizer_adds_bos = config["add_bos_token"].get<bool>();
  if (config.contains("chat_template")) {
    const Json& t = config["chat_template"];
    if (t.is_string()) {
      out.source = t.get<std::string>();
    } else if (t.is_array()) {
      // [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
      const std::string wanted = name.empty() ? "default" : name;
      for (const auto& entry : t)
        if (entry.is_object() && entry.value("name", "") == wanted && entry.contains("template") && entry["template"].is_string())
          out.source = entry["template"].get<std::string>();
      if (!out.source && name.empty() && !t.empty() && t[0].is_object() && t[0].contains("template") && t[0]["template"].is_string())
        out.source = t[0]["template"].get<std::string>();
      if (!out.source) fail("{}: chat_template has no template named '{}'", path.string(), wanted);
    } else if (!t.is_null()) {
      fail("{}: chat_template must be a string or a list of named templates", path.string());
    }
  }
  // Newer models keep the template in its own file beside the config.
  const auto beside = path.parent_path() / "chat_template.jinja";
  if (!out.source && std::filesystem::exists(beside)) {
    out.source = read_file(beside);
    out.origin = beside.string();
  }
  return out;
}

ModelTemplate from_gguf(const std::filesystem::path& path) {
  const auto file = gguf::File::open(path);
  ModelTemplate out;
  out.origin = path.string() + ": tokenizer.chat_template";
  if (const auto* t = file.find("tokenizer.chat_template")) out.source = t->as_string();
  if (const auto* add = file.find("tokenizer.ggml.add_bos_token")) out.tokenizer_adds_bos = add->as_bool();
  const auto* tokens = file.find("tokenizer.ggml.tokens");
  if (!tokens) return out;
  const auto& list = tokens->as_array();
  auto token = [&](const char* key) -> std::optional<std::string> {
    const auto* id = file.find(key);
    if (!id) return std::nullopt;
    const auto i = id->as_uint();
    if (i >= list.size()) fail("{}: {} = {} is outside the vocabulary of {} tokens", path.string(), key, i, list.size());
    return list[i].as_string();
  };
  out.tokens = SpecialTokens{token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id"),
                             token("tokenizer.ggml.padding_token_id"), token("tokenizer.ggml.unknown_token_id")};
  return out;
}

}  // namespace

ModelTemplate read_model_template(const std::filesystem::path& path, const std::string& name) {
  if (std::filesystem::is_directory(path)) {
    const auto config = path / "tokenizer_config.json";
    if (std::filesystem::exists(config)) return from_tokenizer_config(config, name);
    ModelTemplate out;
    out.origin = (path / "chat_template.jinja").string();
    if (std::filesystem::exists(out.origin)) out.source = read_file(out.origin);
    else fail("{}: no tokenizer_config.json or chat_template.jinja in this folder", path.string());
    return out;
  }
  if (!std::filesystem::exists(path)) fail("{}: no such file or folder", path.string());
  if (path.extension() == ".gguf") return from_gguf(path);
  return from_tokenizer_config(path, name);
}

ModelTemplate resolve_chat_template(const std::filesystem::path& model, const std::string& builtin,
                                    const std::filesystem::path& file) {
  if (!builtin.empty() && !file.empty())
    fail("give either a built-in chat template ({}) or a template file ({}), not both", builtin, file.string());
  ModelTemplate out;
  if (!model.empty()) out = read_model_template(model);
  if (!builtin.empty()) {
    out.source = builtin_template(builtin);
    out.origin = "built-in " + builtin;
  } else if (!file.empty()) {
    out.source = read_file(file);
    out.origin = file.string();
  }
  if (!out.source)
    fail("{}: the model has no chat template; choose one with --chat-template NAME (chatml, llama-2, llama-3, phi-3, "
         "zephyr) or --chat-template-file F",
         model.string());
  return out;
}

void save_chat_template(const std::filesystem::path& config_path, const std::string& source) {
  Json config = Json::object();
  if (std::filesystem::exists(config_path)) {
    config = read_json_file(config_path);
    if (!config.is_object()) fail("{}: expected a JSON object", config_path.string());
  }
  config["chat_template"] = source;
  write_file_atomically(config_path, config.dump(2, ' ', false) + "\n");
}

}  // namespace slmtune::chat
