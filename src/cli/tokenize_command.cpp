// `slmtune tokenize MODEL (--text T | --file F)` and `slmtune detokenize MODEL IDS…`: run a model's
// tokenizer (a Hugging Face directory, a tokenizer.json or a .gguf) from the command line, e.g. to
// check what ids a prompt becomes before training on it.
#include <fmt/format.h>

#include <charconv>

#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::cli {
namespace {

using tokenizer::TokenId;
using tokenizer::Tokenizer;

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool has_text = false, has_file = false;  // --text "" is a valid (empty) input
  bool ids = false, tokens = false, json = false;
  bool add_special = false, parse_special = false;
};

struct DetokenizeOptions {
  std::string model;
  std::vector<std::string> ids;
  bool skip_special = false;
};

std::string join_ids(const std::vector<TokenId>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += std::to_string(ids[i]);
  }
  return out;
}

void run_tokenize(const TokenizeOptions& options) {
  if (options.has_text == options.has_file) fail("tokenize: give exactly one of --text or --file");
  if (static_cast<int>(options.ids) + static_cast<int>(options.tokens) + static_cast<int>(options.json) > 1)
    fail("tokenize: choose one output format (--ids, --tokens or --json)");
  const std::string text = options.has_file ? read_file(options.file) : options.text;
  const Tokenizer tok = Tokenizer::load(options.model);
  const std::vector<TokenId> ids = tok.encode(text, options.add_special, options.parse_special);
  if (options.tokens) {
    for (TokenId id : ids) fmt::print("{}\n", tok.id_to_token(id));
    return;
  }
  if (options.json) {
    Json out;
    out["ids"] = ids;
    Json tokens = Json::array();
    for (TokenId id : ids) tokens.push_back(tok.id_to_token(id));
    out["tokens"] = std::move(tokens);
    out["count"] = ids.size();
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  fmt::print("{}\n", join_ids(ids));
}

void run_detokenize(const DetokenizeOptions& options) {
  std::vector<TokenId> ids;
  for (const auto& argument : options.ids) {
    // Accept "1 2 3" as one argument as well as separate arguments (what --ids prints, pasted).
    size_t pos = 0;
    while (pos < argument.size()) {
      while (pos < argument.size() && (argument[pos] == ' ' || argument[pos] == ',')) ++pos;
      if (pos == argument.size()) break;
      size_t end = pos;
      while (end < argument.size() && argument[end] != ' ' && argument[end] != ',') ++end;
      int64_t value = 0;
      const auto [ptr, error] = std::from_chars(argument.data() + pos, argument.data() + end, value);
      if (error != std::errc() || ptr != argument.data() + end || value < 0 || value > INT32_MAX)
        fail("detokenize: '{}' is not a token id (expected a non-negative integer)", argument.substr(pos, end - pos));
      ids.push_back(static_cast<TokenId>(value));
      pos = end;
    }
  }
  const Tokenizer tok = Tokenizer::load(options.model);
  for (TokenId id : ids)
    if (static_cast<size_t>(id) >= tok.vocab_size())
      fail("detokenize: token id {} is beyond the vocabulary of {} ({} tokens)", id, options.model, tok.vocab_size());
  fmt::print("{}\n", tok.decode(ids, options.skip_special));
}

const CommandRegistration registration(20, [](CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  auto* tokenize = app.add_subcommand("tokenize", "Encode text with a model's tokenizer and print the token ids.\n"
                                                  "Example: slmtune tokenize models/phi-2 --text 'Hello world' --ids");
  tokenize->add_option("MODEL", options->model, "A Hugging Face directory, a tokenizer.json or a .gguf file")->required();
  auto* text_option = tokenize->add_option("--text", options->text, "The text to encode");
  auto* file_option = tokenize->add_option("--file", options->file, "A file whose whole contents are encoded");
  tokenize->add_flag("--ids", options->ids, "Print the ids separated by spaces on one line (the default)");
  tokenize->add_flag("--tokens", options->tokens, "Print each token's string, one per line");
  tokenize->add_flag("--json", options->json, "Print {\"ids\": [...], \"tokens\": [...], \"count\": N}");
  tokenize->add_flag("--add-special", options->add_special, "Add the model's special tokens (BOS/EOS) around the text");
  tokenize->add_flag("--parse-special", options->parse_special, "Treat special tokens written in the text (\"<s>\") as those tokens");
  tokenize->callback([options, text_option, file_option] {
    options->has_text = text_option->count() > 0;
    options->has_file = file_option->count() > 0;
    run_tokenize(*options);
  });

  auto detokenize_options = std::make_shared<DetokenizeOptions>();
  auto* detokenize = app.add_subcommand("detokenize", "Decode token ids back into text.\n"
                                                      "Example: slmtune detokenize models/phi-2 15496 2159");
  detokenize->add_option("MODEL", detokenize_options->model, "A Hugging Face directory, a tokenizer.json or a .gguf file")->required();
  detokenize->add_option("IDS", detokenize_options->ids, "Token ids (separate arguments, or one space-separated list)")->required();
  detokenize->add_flag("--skip-special", detokenize_options->skip_special, "Leave special tokens out of the text");
  detokenize->callback([detokenize_options] { run_detokenize(*detokenize_options); });
});

}  // namespace
}  // namespace slmtune::cli
