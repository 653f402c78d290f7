#pragma once
// The generation loop: prefill the prompt, then pick, append and feed one token at a time until an
// end-of-sequence id, a stop string, max_new_tokens or the end of the context. Text is streamed as it
// becomes final: a character whose UTF-8 bytes are split across tokens, and text that may still turn
// out to be the start of a stop string, are held back until the next tokens settle them.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "infer/language_model.hpp"
#include "infer/sampling.hpp"

namespace slmtune::infer {

struct GenerationOptions {
  int64_t max_new_tokens = 256;
  std::vector<int32_t> eos_ids;            // any of them ends generation (not part of the text)
  std::vector<std::string> stop_strings;   // matched on the decoded text, cut from the output
};

enum class StopReason { eos, stop_string, max_tokens, context_full };
const char* stop_reason_name(StopReason reason);

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids, the final EOS id included when one ended it
  std::string text;             // decoded generated text, EOS and stop string excluded
  StopReason reason = StopReason::max_tokens;
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;  // everything after the prefill's logits
};

// Turns generated ids into text (e.g. the tokenizer's decode).
using TokenDecoder = std::function<std::string(std::span<const int32_t>)>;
// Receives each settled piece of text; together the pieces are exactly GenerationResult::text.
using TextCallback = std::function<void(std::string_view)>;

// Fails with one line when the prompt is empty, longer than the context, or holds an id outside the
// vocabulary, or when the model returns logits of the wrong size.
GenerationResult generate(LanguageModel& model, Sampler& sampler, const TokenDecoder& decode,
                          std::span<const int32_t> prompt, const GenerationOptions& options,
                          const TextCallback& on_text = {});

// How many bytes at the end of `text` are not yet final: a trailing U+FFFD (what decoders emit for an
// incomplete UTF-8 sequence), a truncated UTF-8 sequence, or a proper prefix of a stop string.
size_t unsettled_suffix(std::string_view text, std::span<const std::string> stop_strings);

}  // namespace slmtune::infer
