// `slmtune tokenizer train --vocab-size N [--special TOKEN…] FILES…`: learn a byte-level BPE from
// text files and write a tokenizer.json that `slmtune tokenize` and training read back.
#include <fmt/format.h>

#include "cli/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "tokenizer/bpe_trainer.hpp"

namespace slmtune::cli {
namespace {

struct TrainOptions {
  size_t vocab_size = 0;
  std::vector<std::string> specials;
  uint64_t min_frequency = 2;
  bool split_digits = false;
  std::string pattern;
  std::string output = "tokenizer.json";
  std::vector<std::string> files;
};

const CommandRegistration registration(25, [](CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  auto* group = app.add_subcommand("tokenizer", "Tokenizer tools (train a byte-level BPE)");
  group->require_subcommand(1);
  auto* train = group->add_subcommand("train", "Learn a byte-level BPE from text files and write a tokenizer.json.\n"
                                               "Example: slmtune tokenizer train --vocab-size 4096 --special '<|endoftext|>' data/*.txt");
  train->add_option("--vocab-size", options->vocab_size, "Vocabulary size, special and 256 byte tokens included")->required();
  train->add_option("--special", options->specials, "A special token to reserve (repeatable); they get the first ids");
  train->add_option("--min-frequency", options->min_frequency, "Never merge pairs seen fewer times")->capture_default_str();
  train->add_flag("--split-digits", options->split_digits,
                  "Give every digit its own token (HF's Digits pre-tokenizer, as SmolLM's tokenizer does): a model then "
                  "reads and copies numbers digit by digit (the bundled 4-layer model copied positions worse this way)");
  train->add_option("--pattern", options->pattern,
                    "A regular expression (PCRE, \\p{L}/\\p{N} classes) whose matches are the words merges stay inside, "
                    "instead of GPT-2's; written as HF's Split pre-tokenizer, the way Llama-3 and Qwen2 tokenizers are. "
                    "Example: keep a hemisphere letter with its number (\"41.6259S\" -> \"41\" \".\" \"6259S\"): "
                    "--pattern \"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+(?:'?[NSEW](?!\\p{L}))?| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+\"");
  train->add_option("-o,--output", options->output, "Where to write the tokenizer.json")->capture_default_str();
  train->add_option("FILES", options->files, "Training text files")->required();
  train->callback([options] {
    std::vector<std::string> texts;
    size_t bytes = 0;
    for (const auto& file : options->files) {
      texts.push_back(read_file(file));
      bytes += texts.back().size();
    }
    tokenizer::BpeTrainerOptions trainer;
    trainer.vocab_size = options->vocab_size;
    trainer.special_tokens = options->specials;
    trainer.min_frequency = options->min_frequency;
    trainer.split_digits = options->split_digits;
    trainer.pattern = options->pattern;
    const auto trained = tokenizer::train_byte_level_bpe(texts, trainer);
    if (trained.tokens.size() < options->vocab_size)
      log::warn("stopped at {} tokens: no pair left with at least {} occurrences", trained.tokens.size(), options->min_frequency);
    write_file_atomically(options->output, trained.to_tokenizer_json().dump(2) + "\n");
    fmt::print("wrote {} ({} tokens, {} merges, from {} bytes in {} file(s))\n", options->output, trained.tokens.size(),
               trained.merges.size(), bytes, options->files.size());
  });
});

}  // namespace
}  // namespace slmtune::cli
