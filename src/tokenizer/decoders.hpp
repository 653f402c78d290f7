#pragma once
// HF tokenizers' decoders: they turn the token strings of a sequence back into text, each step
// rewriting the list (ByteLevel maps stand-in characters back to bytes, Metaspace ▁ to spaces…).
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_access.hpp"

namespace slmtune::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const JsonValue& spec, const std::string& path);

std::unique_ptr<Decoder> byte_level_decoder();
// SentencePiece-style: ▁ → space, <0xXX> → bytes, join, drop one leading space.
std::unique_ptr<Decoder> sentencepiece_decoder(bool strip_leading_space);
// HF's WordPiece decoder ("##" continuations); a non-empty `word_mark` reads GGUF's phantom-space
// form instead ("▁" marks word starts, continuations are bare).
std::unique_ptr<Decoder> wordpiece_decoder(std::string continuation_prefix, std::string word_mark, bool cleanup);

}  // namespace slmtune::tokenizer
