#pragma once
// HF tokenizers' pre-tokenizers: each cuts the pieces it is given into smaller pieces (and may
// rewrite them, as ByteLevel and Metaspace do); the model then encodes every piece on its own.
#include <functional>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "tokenizer/json_access.hpp"

namespace slmtune::tokenizer {

// Receives pieces in order; `at_start` says the piece begins the input (Metaspace's "first").
// The view is valid only during the call: pieces stream through without being collected, so a
// multi-megabyte text never turns into a multi-megabyte vector of strings.
using PieceSink = std::function<void(std::string_view piece, bool at_start)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // `text` is one segment (the text between two added tokens).
  virtual void pre_tokenize(std::string_view text, bool at_start, const PieceSink& sink) const = 0;
  // Convenience for tests and tools: the pieces collected.
  std::vector<std::string> pieces(std::string_view text, bool at_start = true) const;
};

// Builds one from its tokenizer.json object; unsupported types fail naming the type and path.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonValue& spec, const std::string& path);

// Building blocks for loaders that do not read tokenizer.json (GGUF, GPT-2 files).
// A regex split keeping both matches and the text between them as pieces ("Isolated").
std::unique_ptr<PreTokenizer> isolated_regex_split(const std::string& pattern, const std::string& origin);
std::unique_ptr<PreTokenizer> byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
// Isolated splits by each of `patterns` in turn, then the byte-level map (GGUF's and GPT-2 files'
// pre-tokenizers); one pattern gives a single fused step.
std::unique_ptr<PreTokenizer> byte_level_with_patterns(const std::vector<std::string>& patterns, const std::string& origin);
std::unique_ptr<PreTokenizer> sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps);

// The pattern GPT-2 (and HF's ByteLevel with use_regex) splits on.
extern const char* const kGpt2Pattern;
// Llama 3's pattern (also used by Llama 3.2 and SmolLM-like BPEs).
extern const char* const kLlama3Pattern;

}  // namespace slmtune::tokenizer
