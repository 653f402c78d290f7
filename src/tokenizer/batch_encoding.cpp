#include "tokenizer/batch_encoding.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace slmtune::tokenizer {

BatchEncoding encode_batch(const Tokenizer& tok, const std::vector<std::string>& texts, const EncodeOptions& options) {
  BatchEncoding batch;
  const size_t reserved = options.add_special ? tok.special_tokens_added(false) : 0;
  if (options.max_length && *options.max_length < reserved)
    fail("max_length {} leaves no room: the special tokens alone take {}", *options.max_length, reserved);
  for (const auto& text : texts) {
    std::vector<TokenId> ids = tok.encode(text, false, options.parse_special);
    if (options.max_length) {
      // As in HF, the text is truncated before the special tokens are added, so they survive.
      const size_t budget = *options.max_length - reserved;
      if (ids.size() > budget) {
        if (options.truncation_side == TruncationSide::right) ids.resize(budget);
        else ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(budget));
      }
    }
    if (options.add_special) {
      // Re-run only the post-processor on the truncated ids.
      ids = tok.encode_ids_with_specials(std::move(ids));
    }
    batch.input_ids.push_back(std::move(ids));
  }

  size_t target = 0;
  if (options.padding == Padding::longest) {
    for (const auto& ids : batch.input_ids) target = std::max(target, ids.size());
  } else if (options.padding == Padding::max_length) {
    if (!options.max_length) fail("padding to max_length needs a max_length");
    target = *options.max_length;
  }
  if (options.padding != Padding::none && options.pad_to_multiple_of && *options.pad_to_multiple_of > 0) {
    const size_t multiple = *options.pad_to_multiple_of;
    target = (target + multiple - 1) / multiple * multiple;
  }
  if (options.padding != Padding::none && !options.pad_id) fail("padding needs a pad token id (see the pad token policy)");
  const PaddingSide side = options.padding_side.value_or(tok.config().padding_side);
  for (auto& ids : batch.input_ids) {
    std::vector<uint8_t> mask(ids.size(), 1);
    if (options.padding != Padding::none && ids.size() < target) {
      const size_t missing = target - ids.size();
      if (side == PaddingSide::right) {
        ids.insert(ids.end(), missing, *options.pad_id);
        mask.insert(mask.end(), missing, 0);
      } else {
        ids.insert(ids.begin(), missing, *options.pad_id);
        mask.insert(mask.begin(), missing, 0);
      }
    }
    batch.attention_mask.push_back(std::move(mask));
  }
  return batch;
}

}  // namespace slmtune::tokenizer
