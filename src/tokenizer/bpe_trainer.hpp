#pragma once
// Learning a byte-level BPE from text files, as HF's BpeTrainer does with a ByteLevel
// pre-tokenizer: special tokens first, then the 256 byte characters, then merges of the most
// frequent adjacent pair (ties: the pair of smaller ids) until the vocabulary is full.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/json_access.hpp"

namespace slmtune::tokenizer {

struct BpeTrainerOptions {
  size_t vocab_size = 1000;
  std::vector<std::string> special_tokens;
  uint64_t min_frequency = 2;  // pairs seen fewer times are never merged
  // Every digit its own piece before the byte-level split (HF's Digits pre-tokenizer with
  // individual_digits, as SmolLM's and StarCoder's tokenizers do): no token then holds a number, so
  // a model copies "41.6259S" digit by digit instead of having to learn a copy for every number token.
  bool split_digits = false;
  // A regular expression whose matches are the words, in place of GPT-2's (HF's Split pre-tokenizer
  // with behavior Isolated, then ByteLevel without its own regex: the form Llama-3's and Qwen2's
  // tokenizer.json use). Empty = GPT-2's pattern. A domain may want other words than GPT-2's, e.g. a
  // hemisphere letter kept with the digit before it ("9761E" → "976" "1E"), so that a model copying
  // the number's tokens copies the letter with them.
  std::string pattern;
};

struct TrainedBpe {
  std::vector<std::string> tokens;  // index = id
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::vector<std::string> special_tokens;
  bool split_digits = false;
  std::string pattern;
  // A complete tokenizer.json that load_tokenizer_json reads back.
  JsonValue to_tokenizer_json() const;
};

// `texts` are documents; each is split with GPT-2's pattern or `pattern` (after the digits, with
// split_digits) before counting.
TrainedBpe train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& options);

}  // namespace slmtune::tokenizer
