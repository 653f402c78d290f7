#include "eval/loaded_model.hpp"

#include <yaml-cpp/yaml.h>

#include "chat/template_source.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "infer/transformer_model.hpp"
#include "peft/run_adapter.hpp"

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

namespace {

// train_config.yaml of the run (or model) directory, parsed; a null node when there is none.
YAML::Node run_config(const ModelSource& source, fs::path* where) {
  *where = find_run_file(source, "train_config.yaml");
  if (where->empty()) return YAML::Node();
  try {
    YAML::Node root = YAML::LoadFile(where->string());
    return root.IsMap() ? root : YAML::Node();
  } catch (const YAML::Exception& e) {
    fail("{}: {}", where->string(), e.what());
  }
}

// A string setting of the run's config: nested ("data: {system_prompt: ...}") or dotted.
std::string config_string(const YAML::Node& root, const std::string& section, const std::string& key) {
  if (!root) return "";
  try {
    if (section.empty()) {
      if (root[key] && root[key].IsScalar()) return root[key].as<std::string>();
      return "";
    }
    if (root[section] && root[section].IsMap() && root[section][key] && root[section][key].IsScalar())
      return root[section][key].as<std::string>();
    const std::string dotted = section + "." + key;
    if (root[dotted] && root[dotted].IsScalar()) return root[dotted].as<std::string>();
  } catch (const YAML::Exception&) {
  }
  return "";
}

}  // namespace

fs::path find_system_prompt(const ModelSource& source) {
  std::error_code ec;
  if (!source.adapter.empty() && fs::is_regular_file(source.adapter / "system_prompt.txt", ec))
    return source.adapter / "system_prompt.txt";
  fs::path config_path;
  const std::string named = config_string(run_config(source, &config_path), "data", "system_prompt");
  if (!named.empty()) {
    if (fs::is_regular_file(named, ec)) return named;
    if (fs::is_regular_file(config_path.parent_path() / named, ec)) return config_path.parent_path() / named;
    log::warn("{}: data.system_prompt {} not found (neither here nor beside the config)", config_path.string(), named);
  }
  return find_run_file(source, "system_prompt.txt");
}

data::PromptFormat choose_prompt_format(const ModelSource& source, const std::string& requested) {
  if (!requested.empty()) return data::parse_prompt_format(requested);
  fs::path config_path;
  const std::string name = config_string(run_config(source, &config_path), "", "prompt_format");
  if (name.empty()) return data::PromptFormat::definitions_in_prompt;
  try {
    return data::parse_prompt_format(name);
  } catch (const Error& e) {
    fail("{}: prompt_format: {}", config_path.string(), e.what());
  }
}

void warn_missing_functional_tokens(const tokenizer::Tokenizer& tokenizer, const std::vector<std::string>& tokens) {
  std::string missing;
  for (const auto& token : tokens)
    if (!tokenizer.token_to_id(token)) missing += (missing.empty() ? "" : ", ") + token;
  if (!missing.empty())
    log::warn("the tokenizer has no token for {} (functional_tokens expects one per function, added when training)", missing);
}

LoadedModel LoadedModel::load(const ModelSource& source, bool with_chat_template) {
  if (!source.adapter.empty() && !fs::is_directory(source.adapter))
    fail("{}: no such adapter directory (expected adapter_config.json and adapter_model.safetensors)", source.adapter.string());
  LoadedModel out{infer::InferenceModel::load(source.model), nullptr, std::nullopt};

  if (!source.adapter.empty()) {
    // The run's trained token rows, biases and adapters (peft/run_adapter.hpp).
    peft::RunAdapter run = peft::load_run_adapter(source.adapter, out.model.weights);
    if (run.tokens_applied)
      log::info("{}: trained token rows applied (vocabulary {})", source.adapter.string(), run.weights->config().vocab_size);
    if (run.biases_applied) log::info("{}: trained biases applied", source.adapter.string());
    if (run.weights != out.model.weights) {
      out.model.weights = run.weights;
      out.model.transformer = std::make_unique<Transformer>(out.model.weights);
    }
    out.adapter = std::move(run.adapters);
    out.adapter->set_training(false);
    out.adapter->attach(*out.model.transformer);
    log::info("{}: {} adapters attached", source.adapter.string(), out.adapter->size());
    // A run directory's own tokenizer knows the tokens training added.
    if (fs::is_regular_file(source.adapter / "tokenizer.json")) {
      tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(source.adapter);
      if (static_cast<int64_t>(tok.vocab_size()) > out.model.weights->config().vocab_size)
        fail("{}: the tokenizer has {} tokens but the model's vocabulary (vocab_size) is only {}", source.adapter.string(),
             tok.vocab_size(), out.model.weights->config().vocab_size);
      out.model.eos_ids = infer::end_of_sequence_ids(out.model.weights->config(), tok);
      out.model.tokenizer = std::move(tok);
    }
  }

  if (!with_chat_template) return out;
  fs::path template_file = source.chat_template_file;
  if (source.chat_template.empty() && template_file.empty() && !source.adapter.empty() &&
      fs::is_regular_file(source.adapter / "chat_template.jinja"))
    template_file = source.adapter / "chat_template.jinja";
  chat::ModelTemplate model_template = chat::resolve_chat_template(source.model, source.chat_template, template_file);
  out.chat_template.emplace(*model_template.source, model_template.tokens, model_template.origin);
  return out;
}

}  // namespace slmtune::eval
