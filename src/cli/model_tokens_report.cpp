#include "cli/model_tokens_report.hpp"

#include <fmt/format.h>

#include <unordered_map>

#include "core/error.hpp"
#include "formats/gguf.hpp"
#include "tokenizer/tokenizer_config.hpp"

namespace slmtune::cli {
namespace {

const char* kRoles[] = {"bos", "eos", "pad", "unk"};

std::optional<Json> read_optional_json(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
  return read_json_file(path);
}

void add_pad_warning(TokensReport& report) {
  for (const auto& fact : report.special)
    if (fact.role == "pad" && (fact.text || fact.id)) return;
  bool has_unk = false;
  for (const auto& fact : report.special)
    if (fact.role == "unk" && (fact.text || fact.id)) has_unk = true;
  report.warnings.push_back(fmt::format(
      "no pad token: batches need one; choose with `pad_token:` in the training config — reuse unk{} or eos "
      "(slmtune keeps the real EOS in the loss), or add a new <|pad|> token (grows the embedding and output "
      "matrices by one row each)",
      has_unk ? " (the default here)" : " (this model has none)"));
}

TokensReport read_gguf(const std::filesystem::path& path) {
  TokensReport report;
  const gguf::File file = gguf::File::open(path);
  std::vector<std::string> tokens;
  if (file.find("tokenizer.ggml.tokens")) {
    tokens = file.get_string_array("tokenizer.ggml.tokens");
    report.has_tokenizer = true;
    report.tokenizer_source = fmt::format("GGUF tokenizer.ggml ({})", file.find("tokenizer.ggml.model")
                                                                        ? file.get_string("tokenizer.ggml.model")
                                                                        : "unknown model");
    report.vocab_size = static_cast<int64_t>(tokens.size());
  }
  const char* keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
                        "tokenizer.ggml.unknown_token_id"};
  for (int i = 0; i < 4; ++i) {
    SpecialTokenFact fact{kRoles[i], std::nullopt, std::nullopt};
    if (file.find(keys[i])) {
      fact.id = file.get_int(keys[i]);
      if (*fact.id >= 0 && static_cast<size_t>(*fact.id) < tokens.size()) fact.text = tokens[static_cast<size_t>(*fact.id)];
    }
    report.special.push_back(fact);
  }
  if (file.find("tokenizer.ggml.add_bos_token")) report.add_bos_token = file.get_bool("tokenizer.ggml.add_bos_token");
  if (file.find("tokenizer.ggml.add_eos_token")) report.add_eos_token = file.get_bool("tokenizer.ggml.add_eos_token");
  if (file.find("tokenizer.chat_template")) {
    report.has_chat_template = true;
    report.chat_template_source = "GGUF tokenizer.chat_template";
  }
  if (report.has_tokenizer) add_pad_warning(report);
  return report;
}

TokensReport read_directory(const std::filesystem::path& dir) {
  TokensReport report;
  std::error_code error;
  const bool has_config = std::filesystem::is_regular_file(dir / "tokenizer_config.json", error);
  const bool has_map = std::filesystem::is_regular_file(dir / "special_tokens_map.json", error);
  const auto tokenizer = read_optional_json(dir / "tokenizer.json");
  const auto model_config = read_optional_json(dir / "config.json");
  report.has_tokenizer = has_config || tokenizer.has_value();
  if (tokenizer) report.tokenizer_source = "tokenizer.json";
  else if (has_config) report.tokenizer_source = "tokenizer_config.json";

  // The tokenizer module's own reading of tokenizer_config.json + special_tokens_map.json.
  tokenizer::TokenizerConfig config;
  if (has_config)
    config = tokenizer::read_tokenizer_config(dir / "tokenizer_config.json",
                                              has_map ? dir / "special_tokens_map.json" : std::filesystem::path{});

  // content → id from tokenizer.json's vocabulary and added tokens, without building the whole
  // tokenizer (merges and all): inspect stays a header read.
  std::unordered_map<std::string, int64_t> ids;
  if (tokenizer && tokenizer->is_object()) {
    if (tokenizer->contains("model") && (*tokenizer)["model"].contains("vocab")) {
      const Json& vocab = (*tokenizer)["model"]["vocab"];
      if (vocab.is_object()) {
        for (const auto& [piece, id] : vocab.items())
          if (id.is_number_integer()) ids[piece] = id.get<int64_t>();
      } else if (vocab.is_array()) {  // Unigram: [[piece, score], …]
        for (size_t i = 0; i < vocab.size(); ++i)
          if (vocab[i].is_array() && !vocab[i].empty() && vocab[i][0].is_string())
            ids[vocab[i][0].get<std::string>()] = static_cast<int64_t>(i);
      }
      report.vocab_size = static_cast<int64_t>(ids.size());
    }
    if (tokenizer->contains("added_tokens") && (*tokenizer)["added_tokens"].is_array())
      for (const auto& added : (*tokenizer)["added_tokens"])
        if (added.contains("content") && added["content"].is_string() && added.contains("id") &&
            added["id"].is_number_integer())
          ids[added["content"].get<std::string>()] = added["id"].get<int64_t>();
  }

  const std::optional<std::string>* texts[] = {&config.bos_token, &config.eos_token, &config.pad_token,
                                               &config.unk_token};
  for (int i = 0; i < 4; ++i) {
    SpecialTokenFact fact{kRoles[i], *texts[i], std::nullopt};
    if (fact.text) {
      if (const auto it = ids.find(*fact.text); it != ids.end()) fact.id = it->second;
    } else if (model_config && fact.role != "unk") {
      // Without a tokenizer config, config.json's *_token_id is the only word on it.
      const std::string id_key = fact.role + "_token_id";
      if (model_config->contains(id_key) && (*model_config)[id_key].is_number_integer())
        fact.id = (*model_config)[id_key].get<int64_t>();
    }
    report.special.push_back(fact);
  }
  report.add_bos_token = config.add_bos_token;
  report.add_eos_token = config.add_eos_token;
  if (!config.chat_templates.empty()) {
    report.has_chat_template = true;
    const bool named = config.chat_templates.size() > 1 || config.chat_templates.front().name != "default";
    report.chat_template_source = named ? "tokenizer_config.json (named templates)" : "tokenizer_config.json";
    if (named)
      for (const auto& entry : config.chat_templates) report.chat_template_names.push_back(entry.name);
  }
  if (!report.has_chat_template && std::filesystem::is_regular_file(dir / "chat_template.jinja", error)) {
    report.has_chat_template = true;
    report.chat_template_source = "chat_template.jinja";
  }
  if (report.has_tokenizer) add_pad_warning(report);
  else report.warnings.push_back("no tokenizer files (tokenizer.json, tokenizer_config.json) in the model directory");
  return report;
}

}  // namespace

TokensReport read_tokens_report(const std::filesystem::path& model) {
  std::error_code error;
  if (std::filesystem::is_directory(model, error)) return read_directory(model);
  if (model.extension() == ".gguf") return read_gguf(model);
  return read_directory(model.parent_path());
}

void print_tokens_text(const TokensReport& report) {
  fmt::print("\ntokenizer      {}{}\n", report.has_tokenizer ? report.tokenizer_source : "none",
             report.vocab_size ? fmt::format(" ({} tokens)", *report.vocab_size) : "");
  auto flag = [](const std::optional<bool>& value) { return value ? (*value ? "true" : "false") : "unset"; };
  fmt::print("special tokens add_bos_token: {}, add_eos_token: {}\n", flag(report.add_bos_token), flag(report.add_eos_token));
  for (const auto& fact : report.special) {
    if (!fact.text && !fact.id) {
      fmt::print("  {:<4} none\n", fact.role);
      continue;
    }
    fmt::print("  {:<4} {} (id {})\n", fact.role, fact.text ? Json(*fact.text).dump() : "?",
               fact.id ? std::to_string(*fact.id) : "not in vocabulary");
  }
  std::string names;
  for (const auto& name : report.chat_template_names) names += (names.empty() ? "" : ", ") + name;
  fmt::print("chat template  {}\n", report.has_chat_template
                                        ? fmt::format("present ({}{})", report.chat_template_source,
                                                      names.empty() ? "" : ": " + names)
                                        : "none (choose a built-in one with --chat-template when training)");
}

void add_tokens_json(const TokensReport& report, Json& json) {
  Json special = Json::object();
  for (const auto& fact : report.special) {
    if (!fact.text && !fact.id) {
      special[fact.role] = nullptr;
      continue;
    }
    special[fact.role] = {{"content", fact.text ? Json(*fact.text) : Json(nullptr)},
                          {"id", fact.id ? Json(*fact.id) : Json(nullptr)}};
  }
  json["tokenizer"] = report.has_tokenizer ? Json(report.tokenizer_source) : Json(nullptr);
  json["special_tokens"] = special;
  json["add_bos_token"] = report.add_bos_token ? Json(*report.add_bos_token) : Json(nullptr);
  json["add_eos_token"] = report.add_eos_token ? Json(*report.add_eos_token) : Json(nullptr);
  json["chat_template"] = {{"present", report.has_chat_template},
                           {"source", report.has_chat_template ? Json(report.chat_template_source) : Json(nullptr)},
                           {"names", report.chat_template_names}};
  json["warnings"] = report.warnings;
}

}  // namespace slmtune::cli
