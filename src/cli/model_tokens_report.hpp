#pragma once
// The tokenizer facts `inspect` reports (special tokens with ids, add_bos/add_eos, chat template,
// pad-token warning), read from tokenizer_config.json / special_tokens_map.json / tokenizer.json or
// from a GGUF file's tokenizer.* keys.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "formats/json.hpp"

namespace slmtune::cli {

struct SpecialTokenFact {
  std::string role;  // bos, eos, pad, unk
  std::optional<std::string> text;
  std::optional<int64_t> id;
};

struct TokensReport {
  bool has_tokenizer = false;
  std::string tokenizer_source;  // "tokenizer.json", "GGUF tokenizer.ggml.*"…
  std::optional<int64_t> vocab_size;
  std::vector<SpecialTokenFact> special;  // bos, eos, pad, unk in that order
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  bool has_chat_template = false;
  std::string chat_template_source;
  std::vector<std::string> chat_template_names;  // named templates ("default", "tool_use"…)
  std::vector<std::string> warnings;
};

TokensReport read_tokens_report(const std::filesystem::path& model);
void print_tokens_text(const TokensReport& report);
void add_tokens_json(const TokensReport& report, Json& json);

}  // namespace slmtune::cli
