#include "eval/loaded_model.hpp"

#include <yaml-cpp/yaml.h>

#include "chat/template_source.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "infer/transformer_model.hpp"
#include "peft/adapter_io.hpp"

namespace slmtune::eval {
namespace fs = std::filesystem;
namespace {

fs::path folder_of(const fs::path& path) {
  if (path.empty()) return {};
  return fs::is_directory(path) ? path : path.parent_path();
}

}  // namespace

fs::path find_run_file(const ModelSource& source, const std::string& name) {
  for (const fs::path& dir : {folder_of(source.adapter), folder_of(source.model)}) {
    if (dir.empty()) continue;
    fs::path candidate = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return {};
}

data::PromptFormat choose_prompt_format(const ModelSource& source, const std::string& requested) {
  if (!requested.empty()) return data::parse_prompt_format(requested);
  fs::path config = find_run_file(source, "train_config.yaml");
  if (!config.empty()) {
    try {
      YAML::Node root = YAML::LoadFile(config.string());
      if (root.IsMap() && root["prompt_format"] && root["prompt_format"].IsScalar()) {
        const std::string name = root["prompt_format"].as<std::string>();
        try {
          return data::parse_prompt_format(name);
        } catch (const Error& e) {
          fail("{}: prompt_format: {}", config.string(), e.what());
        }
      }
    } catch (const YAML::Exception& e) {
      fail("{}: {}", config.string(), e.what());
    }
  }
  return data::PromptFormat::definitions_in_prompt;
}

void warn_missing_functional_tokens(const tokenizer::Tokenizer& tokenizer, const std::vector<std::string>& tokens) {
  std::string missing;
  for (const auto& token : tokens)
    if (!tokenizer.token_to_id(token)) missing += (missing.empty() ? "" : ", ") + token;
  if (!missing.empty())
    log::warn("the tokenizer has no token for {} (functional_tokens expects one per function, added when training)", missing);
}

LoadedModel LoadedModel::load(const ModelSource& source) {
  if (!source.adapter.empty() && !fs::is_directory(source.adapter))
    fail("{}: no such adapter directory (expected adapter_config.json and adapter_model.safetensors)", source.adapter.string());
  LoadedModel out{infer::InferenceModel::load(source.model), nullptr, std::nullopt};

  // A run directory's own tokenizer knows the tokens training added.
  if (!source.adapter.empty() && fs::is_regular_file(source.adapter / "tokenizer.json")) {
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(source.adapter);
    if (static_cast<int64_t>(tok.vocab_size()) > out.model.weights->config().vocab_size)
      fail("{}: the tokenizer has {} tokens but the model's vocabulary (vocab_size) is only {}", source.adapter.string(),
           tok.vocab_size(), out.model.weights->config().vocab_size);
    out.model.eos_ids = infer::end_of_sequence_ids(out.model.weights->config(), tok);
    out.model.tokenizer = std::move(tok);
  }
  if (!source.adapter.empty()) {
    out.adapter = peft::load_adapter(source.adapter, out.model.weights);
    out.adapter->set_training(false);
    out.adapter->attach(*out.model.transformer);
    log::info("{}: {} adapters attached", source.adapter.string(), out.adapter->size());
  }

  fs::path template_file = source.chat_template_file;
  if (source.chat_template.empty() && template_file.empty() && !source.adapter.empty() &&
      fs::is_regular_file(source.adapter / "chat_template.jinja"))
    template_file = source.adapter / "chat_template.jinja";
  chat::ModelTemplate model_template = chat::resolve_chat_template(source.model, source.chat_template, template_file);
  out.chat_template.emplace(*model_template.source, model_template.tokens, model_template.origin);
  return out;
}

}  // namespace slmtune::eval
