#pragma once
// The pad token policy. Padding needs an id; models often ship without a pad token. Use the
// configured one; otherwise, by choice, reuse unk (the default where the vocabulary has one), reuse
// eos, or add a new <|pad|> token — which grows the embedding and output matrices by one row each,
// a cost reported to the user. Reusing eos is safe only because masks come from positions
// (BatchEncoding), never from the id, so the real EOS keeps its place in the loss.
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.hpp"

namespace slmtune::tokenizer {

enum class PadFallback { automatic, unk, eos, add_new };  // automatic: unk if present, else eos

struct PadTokenChoice {
  TokenId id = 0;
  std::string content;
  enum class Source { configured, unk, eos, added } source = Source::configured;
  size_t rows_added = 0;      // new rows in each of the embedding and output matrices
  uint64_t bytes_added = 0;   // their memory, for the report
};

// `hidden_size` and `bytes_per_weight` size the cost of a new token; `tied_embeddings` counts one
// matrix instead of two. May add a token to `tok` (add_new). The choice is stored in its config.
PadTokenChoice resolve_pad_token(Tokenizer& tok, PadFallback fallback, uint64_t hidden_size = 0, uint64_t bytes_per_weight = 0,
                                 bool tied_embeddings = false);
PadFallback parse_pad_fallback(const std::string& name);  // "auto", "unk", "eos", "add"
std::string describe(const PadTokenChoice& choice);

}  // namespace slmtune::tokenizer
