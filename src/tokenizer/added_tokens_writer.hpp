#pragma once
// Writing tokens added at run time (functional tokens, a new <|pad|>) back into a copy of the
// tokenizer files, so a run directory loads as the grown tokenizer in slmtune and in Hugging Face:
// tokenizer.json's "added_tokens" array gains the entries (by id, never duplicated) and
// tokenizer_config.json's "added_tokens_decoder" the same tokens keyed by id, as transformers saves them.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/added_vocabulary.hpp"

namespace slmtune::tokenizer {

// Patches the files of `dir` that exist (each rewritten atomically). `pad_token`: also set as
// tokenizer_config.json's pad_token (the added <|pad|>). Returns how many tokens were newly written.
size_t write_added_tokens(const std::filesystem::path& dir, const std::vector<AddedToken>& tokens,
                          const std::optional<std::string>& pad_token = std::nullopt);

}  // namespace slmtune::tokenizer
