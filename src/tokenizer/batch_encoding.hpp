#pragma once
// Encoding several texts at once into a rectangular batch: truncation (leaving room for the special
// tokens), padding on the configured side, and the attention mask that tells real tokens from pads.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace slmtune::tokenizer {

enum class Padding { none, longest, max_length };
enum class TruncationSide { right, left };

struct EncodeOptions {
  bool add_special = true;
  bool parse_special = false;
  std::optional<size_t> max_length;  // truncate to this many ids, special tokens included
  TruncationSide truncation_side = TruncationSide::right;
  Padding padding = Padding::none;
  std::optional<PaddingSide> padding_side;     // default: the tokenizer config's padding_side
  std::optional<size_t> pad_to_multiple_of;
  std::optional<TokenId> pad_id;               // required when padding; see resolve_pad_token
};

struct BatchEncoding {
  std::vector<std::vector<TokenId>> input_ids;
  // 1 for a real token, 0 for padding. Masks come from positions, never from comparing ids with
  // the pad id, so an EOS that doubles as the pad token stays a real (trained-on) token.
  std::vector<std::vector<uint8_t>> attention_mask;
};

BatchEncoding encode_batch(const Tokenizer& tok, const std::vector<std::string>& texts, const EncodeOptions& options);

}  // namespace slmtune::tokenizer
