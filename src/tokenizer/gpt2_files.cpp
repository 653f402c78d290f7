// Loading GPT-2-style vocabulary files: vocab.json / encoder.json (token → id) and merges.txt /
// vocab.bpe (one "left right" merge per line in rank order, optionally after a "#version" line).
#include "core/atomic_file.hpp"
#include "tokenizer/json_access.hpp"
#include "core/error.hpp"
#include "tokenizer/bpe_model.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::tokenizer {

Tokenizer load_gpt2_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_file, std::string_view pre) {
  const std::string origin = vocab_json.string();
  const JsonValue vocab = read_large_json(vocab_json);
  if (!vocab.is_object()) fail("{}: expected an object mapping tokens to ids", origin);
  std::vector<std::pair<std::string, TokenId>> pairs;
  pairs.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      fail("{}: token {:?}: expected a non-negative integer id", origin, token);
    pairs.emplace_back(token, static_cast<TokenId>(id.get<int64_t>()));
  }

  const std::string merges_origin = merges_file.string();
  const std::string text = read_file(merges_file);
  std::vector<MergeRule> merges;
  size_t line_number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Only a first line starting "#version" is a header: real merges may start with '#'.
    if (line.empty() || (line_number == 1 && line.substr(0, 8) == "#version")) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
      fail("{}:{}: expected \"left right\", found {:?}", merges_origin, line_number, std::string(line));
    merges.push_back({std::string(line.substr(0, space)), std::string(line.substr(space + 1)), static_cast<uint32_t>(merges.size())});
  }

  BpeOptions options;
  options.ignore_merges = pre_tokenizer_ignores_merges(pre);
  TokenizerParts parts;
  parts.model = std::make_unique<BpeModel>(Vocabulary::from_pairs(pairs, origin), merges, options, merges_origin);
  parts.pre_tokenizer = byte_level_with_patterns(pre_tokenizer_patterns(pre, origin), origin);
  parts.decoder = byte_level_decoder();
  parts.config.gguf_pre = std::string(pre);
  return Tokenizer(std::move(parts));
}

}  // namespace slmtune::tokenizer
