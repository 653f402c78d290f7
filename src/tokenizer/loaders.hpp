#pragma once
// Loaders that assemble a Tokenizer from the formats models ship with.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/json_access.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::tokenizer {

// Hugging Face tokenizer.json (already parsed); `origin` names the file in errors.
Tokenizer tokenizer_from_json(const JsonValue& root, const std::string& origin);
Tokenizer load_tokenizer_json(const std::filesystem::path& path);

// GPT-2-style files: a vocabulary JSON (vocab.json / encoder.json) and merges (merges.txt /
// vocab.bpe). `pre` names the pre-tokenizer as GGUF's tokenizer.ggml.pre does ("gpt-2",
// "llama-bpe", …); Llama-3-style vocabularies also skip merging for pieces already in the vocabulary.
Tokenizer load_gpt2_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges,
                          std::string_view pre = "gpt-2");

// The vocabulary embedded in a GGUF file (tokenizer.ggml.*).
Tokenizer load_gguf_tokenizer(const std::filesystem::path& path);

// The pre-tokenizer regexes for a tokenizer.ggml.pre name, applied one after another, each keeping
// matches and the text between them as pieces. Fails for an unknown name.
std::vector<std::string> pre_tokenizer_patterns(std::string_view pre, const std::string& origin);
// The tokenizer.ggml.pre name whose patterns are exactly `patterns`, if any.
std::optional<std::string> pre_tokenizer_name(const std::vector<std::string>& patterns);
// Whether the vocabulary named by `pre` emits a piece that is itself a token without merging.
bool pre_tokenizer_ignores_merges(std::string_view pre);

}  // namespace slmtune::tokenizer
