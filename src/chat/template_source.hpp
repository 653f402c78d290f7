#pragma once
// Where a model's chat template comes from: a Hugging Face model folder (tokenizer_config.json's
// `chat_template`, or chat_template.jinja beside it), a tokenizer_config.json itself, or a GGUF
// file's `tokenizer.chat_template`; and writing the chosen template back into a fine-tuned model's
// tokenizer_config.json so that training and deployment use the same one.
#include <filesystem>
#include <optional>
#include <string>

#include "chat/chat_template.hpp"

namespace slmtune::chat {

struct ModelTemplate {
  std::optional<std::string> source;  // absent when the model has no chat template
  SpecialTokens tokens;
  bool tokenizer_adds_bos = false;
  std::string origin;  // the file the template came from, for messages
};

// `path` is a model folder, a tokenizer_config.json or a .gguf file. When the config holds several
// named templates, `name` picks one ("default" when empty, else the first).
ModelTemplate read_model_template(const std::filesystem::path& path, const std::string& name = "");

// The template a command or a training run uses: a built-in by name (`builtin`), else a Jinja file
// (`file`), else the model's own. The model's special tokens are kept in every case. One line naming
// the model when nothing gives a template, or when both `builtin` and `file` are given. `model` may be
// empty when `builtin` or `file` is given.
ModelTemplate resolve_chat_template(const std::filesystem::path& model, const std::string& builtin,
                                    const std::filesystem::path& file);

// Sets `chat_template` in the tokenizer_config.json at `config_path` (created when missing),
// keeping every other key and its order; written atomically.
void save_chat_template(const std::filesystem::path& config_path, const std::string& source);

}  // namespace slmtune::chat
