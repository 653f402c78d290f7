#include "tokenizer/tokenizer_files.hpp"

#include "core/error.hpp"

namespace slmtune::tokenizer {

namespace {
const char* const kNames[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                              "vocab.json",     "merges.txt",            "tokenizer.model",
                              "added_tokens.json", "chat_template.jinja"};
}  // namespace

std::span<const char* const> tokenizer_file_names() { return kNames; }

int copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (!std::filesystem::is_directory(from)) return 0;
  int copied = 0;
  for (const char* name : kNames) {
    const auto source = from / name;
    if (!std::filesystem::is_regular_file(source)) continue;
    std::error_code error;
    std::filesystem::copy_file(source, to / name, std::filesystem::copy_options::overwrite_existing, error);
    if (error) fail("{}: cannot copy to {}: {}", source.string(), (to / name).string(), error.message());
    ++copied;
  }
  return copied;
}

}  // namespace slmtune::tokenizer
