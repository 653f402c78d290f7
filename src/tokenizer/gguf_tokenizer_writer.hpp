#pragma once
// Writing a tokenizer into GGUF metadata (tokenizer.ggml.*) so that an exported model carries its
// vocabulary; load_gguf_tokenizer reads it back to the same ids.
#include "formats/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::tokenizer {

// SentencePiece-style BPE (byte fallback) becomes "llama" with scores from merge ranks; byte-level
// BPE becomes "gpt2" with its merges and tokenizer.ggml.pre. Other models fail with a clear message.
void add_tokenizer_to_gguf(const Tokenizer& tok, gguf::Writer& writer);

}  // namespace slmtune::tokenizer
