// Tokenizer::load: what MODEL means on the command line (a HF directory, a tokenizer.json, a .gguf).
#include <filesystem>

#include "core/error.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::tokenizer {

namespace fs = std::filesystem;

namespace {

// tokenizer_config.json's add_bos_token/add_eos_token decide the special tokens around a sequence
// (as transformers' Llama/Gemma fast tokenizers rebuild their post-processor from them).
void apply_config_files(Tokenizer& tok, const fs::path& dir) {
  const fs::path config_file = dir / "tokenizer_config.json";
  const fs::path map_file = dir / "special_tokens_map.json";
  TokenizerConfig& config = tok.mutable_config();
  if (fs::exists(config_file)) apply_tokenizer_config(config, read_json_file(config_file), config_file.string());
  if (fs::exists(map_file)) apply_special_tokens_map(config, read_json_file(map_file), map_file.string());
  if (!config.add_bos_token && !config.add_eos_token) return;
  const auto resolve = [&](const std::optional<std::string>& token, const char* flag, const char* name) -> std::optional<TokenId> {
    if (!token) fail("{}: {} is true but no {} is configured", config_file.string(), flag, name);
    const auto id = tok.token_to_id(*token);
    if (!id) fail("{}: {} {:?} is not in the vocabulary", config_file.string(), name, *token);
    return id;
  };
  const auto bos = config.add_bos_token.value_or(false) ? resolve(config.bos_token, "add_bos_token", "bos_token") : std::nullopt;
  const auto eos = config.add_eos_token.value_or(false) ? resolve(config.eos_token, "add_eos_token", "eos_token") : std::nullopt;
  tok.set_post_processor(bos_eos_post_processor(bos, eos));
}

}  // namespace

Tokenizer Tokenizer::load(const fs::path& path) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error || !fs::exists(status)) fail("{}: no such file or directory", path.string());
  if (fs::is_directory(status)) {
    std::optional<Tokenizer> tok;
    if (fs::exists(path / "tokenizer.json")) {
      tok.emplace(load_tokenizer_json(path / "tokenizer.json"));
    } else {
      for (const auto& [vocab, merges] : {std::pair{"vocab.json", "merges.txt"}, std::pair{"encoder.json", "vocab.bpe"}}) {
        if (fs::exists(path / vocab) && fs::exists(path / merges)) {
          tok.emplace(load_gpt2_files(path / vocab, path / merges, "gpt-2"));
          break;
        }
      }
    }
    if (!tok) fail("{}: no tokenizer.json (or vocab.json + merges.txt, encoder.json + vocab.bpe) in this directory", path.string());
    apply_config_files(*tok, path);
    return std::move(*tok);
  }
  if (path.extension() == ".gguf") return load_gguf_tokenizer(path);
  if (path.extension() == ".json") return load_tokenizer_json(path);
  fail("{}: expected a Hugging Face directory, a tokenizer.json or a .gguf file", path.string());
}

}  // namespace slmtune::tokenizer
