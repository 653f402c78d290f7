#pragma once
// HF tokenizers' normalizers: string → string rewrites applied before pre-tokenization (and to the
// content of added tokens marked `normalized`).
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_access.hpp"

namespace slmtune::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};

// Builds one from its tokenizer.json object; `path` is the JSON path used in error messages.
// Unsupported types fail naming the type and the path.
std::unique_ptr<Normalizer> make_normalizer(const JsonValue& spec, const std::string& path);

// Building blocks usable without JSON (the GGUF loader assembles SentencePiece's normalizer).
std::unique_ptr<Normalizer> prepend_normalizer(std::string prefix);
std::unique_ptr<Normalizer> replace_normalizer(std::string from, std::string to);
std::unique_ptr<Normalizer> sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> steps);

}  // namespace slmtune::tokenizer
