#pragma once
// The files that make up a Hugging Face tokenizer folder, for commands that write a model folder of
// their own (a training run's result, a merged model) and must carry the tokenizer along with it.
#include <filesystem>
#include <span>
#include <string>

namespace slmtune::tokenizer {

// tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.json, merges.txt,
// tokenizer.model, added_tokens.json, chat_template.jinja.
std::span<const char* const> tokenizer_file_names();

// Copies those of the files that exist in `from` into `to` (overwriting); returns how many. `from`
// may be a file (a .gguf model): then nothing is copied.
int copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace slmtune::tokenizer
