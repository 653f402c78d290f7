#pragma once
// What tokenizer_config.json and special_tokens_map.json say about a tokenizer beyond tokenizer.json:
// its named special tokens, whether BOS/EOS are added, chat templates, length limit, padding side.
// GGUF files carry the same facts under tokenizer.ggml.*; both loaders fill this struct.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::tokenizer {

enum class PaddingSide { right, left };

struct NamedChatTemplate {
  std::string name;  // "default" for a template given as a plain string
  std::string source;
};

struct TokenizerConfig {
  // Special tokens by content (resolve ids with Tokenizer::token_to_id).
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token;
  std::optional<bool> add_bos_token, add_eos_token;  // unset: keep the post-processor's choice
  std::vector<NamedChatTemplate> chat_templates;
  std::optional<uint64_t> model_max_length;  // absent or HF's "very large" placeholder → unset
  PaddingSide padding_side = PaddingSide::right;
  // The tokenizer.ggml.pre name of a byte-level BPE's split, when known (for writing GGUF back).
  std::optional<std::string> gguf_pre;

  // The template called `name`, or nullptr.
  const std::string* chat_template(std::string_view name = "default") const;
};

// Reads tokenizer_config.json (required) and special_tokens_map.json (optional, fills what the
// config leaves unset). Errors name the file and the key.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& config_file,
                                      const std::filesystem::path& special_tokens_map_file = {});
// The same from parsed JSON; `origin` names the source in errors.
void apply_tokenizer_config(TokenizerConfig& config, const Json& json, const std::string& origin);
void apply_special_tokens_map(TokenizerConfig& config, const Json& json, const std::string& origin);

}  // namespace slmtune::tokenizer
