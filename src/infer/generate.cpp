#include "infer/generate.hpp"

#include <algorithm>
#include <chrono>

#include "core/error.hpp"
#include "core/log.hpp"

namespace slmtune::infer {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Bytes of an incomplete UTF-8 sequence at the very end of `text` (0 when it ends on a boundary).
size_t truncated_utf8_tail(std::string_view text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const auto byte = static_cast<unsigned char>(text[n - back]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

// The earliest occurrence of any stop string, or npos.
size_t find_stop(std::string_view text, std::span<const std::string> stop_strings) {
  size_t first = std::string_view::npos;
  for (const auto& stop : stop_strings) first = std::min(first, text.find(stop));
  return first;
}

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::eos: return "eos";
    case StopReason::stop_string: return "stop_string";
    case StopReason::max_tokens: return "max_tokens";
    case StopReason::context_full: return "context_full";
  }
  return "unknown";
}

size_t unsettled_suffix(std::string_view text, std::span<const std::string> stop_strings) {
  size_t held = 0;
  while (text.size() - held >= kReplacement.size() && text.substr(0, text.size() - held).ends_with(kReplacement))
    held += kReplacement.size();
  held += truncated_utf8_tail(text.substr(0, text.size() - held));
  const std::string_view settled = text.substr(0, text.size() - held);
  size_t stop_prefix = 0;
  for (const auto& stop : stop_strings) {
    for (size_t length = std::min(stop.size() - 1, settled.size()); length > stop_prefix; --length) {
      if (settled.ends_with(std::string_view(stop).substr(0, length))) {
        stop_prefix = length;
        break;
      }
    }
  }
  return held + stop_prefix;
}

GenerationResult generate(LanguageModel& model, Sampler& sampler, const TokenDecoder& decode,
                          std::span<const int32_t> prompt, const GenerationOptions& options,
                          const TextCallback& on_text) {
  const int64_t vocab = model.vocab_size();
  const int64_t context = model.context_length();
  if (prompt.empty()) fail("generate: the prompt is empty (it needs at least one token)");
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= vocab)
      fail("generate: prompt token {} (position {}) is outside the model's vocabulary of {} tokens", prompt[i], i, vocab);
  if (context > 0 && static_cast<int64_t>(prompt.size()) > context)
    fail("generate: the prompt has {} tokens, more than the model's context of {} tokens", prompt.size(), context);
  if (options.max_new_tokens < 1) fail("generate: max new tokens is {}; it must be at least 1", options.max_new_tokens);
  for (const auto& stop : options.stop_strings)
    if (stop.empty()) fail("generate: a stop string is empty");

  GenerationResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  std::vector<int32_t> text_tokens;  // generated ids that make up the text (no EOS)
  size_t emitted = 0;                // bytes of result.text already handed to on_text

  const int64_t longest = static_cast<int64_t>(prompt.size()) + options.max_new_tokens;
  model.reset(context > 0 ? std::min(context, longest) : longest);
  auto start = std::chrono::steady_clock::now();
  std::vector<float> logits = model.next_logits(prompt);
  result.prefill_seconds = seconds_since(start);
  start = std::chrono::steady_clock::now();

  while (true) {
    if (static_cast<int64_t>(logits.size()) != vocab)
      fail("generate: the model returned {} logits for a vocabulary of {} tokens", logits.size(), vocab);
    const int32_t id = sampler.next(logits, history);
    history.push_back(id);
    result.tokens.push_back(id);
    if (std::find(options.eos_ids.begin(), options.eos_ids.end(), id) != options.eos_ids.end()) {
      result.reason = StopReason::eos;
      break;
    }
    text_tokens.push_back(id);
    result.text = decode(text_tokens);
    if (const size_t stop = find_stop(result.text, options.stop_strings); stop != std::string::npos) {
      result.text.resize(stop);
      result.reason = StopReason::stop_string;
      break;
    }
    if (on_text) {
      const size_t settled = result.text.size() - unsettled_suffix(result.text, options.stop_strings);
      if (settled > emitted) {
        on_text(std::string_view(result.text).substr(emitted, settled - emitted));
        emitted = settled;
      }
    }
    if (static_cast<int64_t>(result.tokens.size()) >= options.max_new_tokens) {
      result.reason = StopReason::max_tokens;
      break;
    }
    if (context > 0 && static_cast<int64_t>(history.size()) >= context) {
      log::warn("generate: stopped at the model's context of {} tokens", context);
      result.reason = StopReason::context_full;
      break;
    }
    logits = model.next_logits(std::span<const int32_t>(&history.back(), 1));
  }
  result.decode_seconds = seconds_since(start);
  // Whatever was held back is final now (a stop string cut it, or nothing more will come).
  if (on_text && result.text.size() > emitted) on_text(std::string_view(result.text).substr(emitted));
  return result;
}

}  // namespace slmtune::infer
