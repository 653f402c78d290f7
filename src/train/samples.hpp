#pragma once
// Chat examples → token ids and HF-style labels for training.
//
// Each example is rendered with the model's chat template and tokenized once. With
// train_on = assistant, only the tokens the assistant writes carry a label; the rest get -100.
// The assistant's characters come from the template's {% generation %} spans when it has them;
// otherwise, for each assistant message i, from rendering messages[:i] with the generation prompt
// (where the reply starts) and messages[:i+1] (where it ends), each compared token by token with the
// whole conversation: the common prefix keeps the turn's end marker and, on the last turn, the
// template's EOS. Generation spans (characters) become token positions by encoding the text up to
// each boundary; a token straddling a boundary counts as part of the reply. An EOS token right
// after a labelled span is labelled too: the model must learn to stop, and since labels come from
// positions, never from ids, this holds when pad == eos.
//
// BOS: when the tokenizer adds BOS itself (tokenizer_config add_bos_token), we add it once and the
// chat module drops the template's own leading BOS, so it is never doubled.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/chat_jsonl.hpp"

namespace slmtune::train {

inline constexpr int32_t kIgnoreIndex = -100;

struct Sample {
  std::vector<int32_t> ids;
  std::vector<int32_t> labels;  // ids where trained, kIgnoreIndex elsewhere
};

enum class TrainOn { assistant, all };
TrainOn parse_train_on(const std::string& name);  // "assistant" or "all"

struct SampleOptions {
  TrainOn train_on = TrainOn::assistant;
  int64_t max_seq_len = 0;  // 0: no limit
};

struct SampleSet {
  std::vector<Sample> samples;
  int64_t truncated = 0;          // examples cut to max_seq_len
  int64_t dropped_no_targets = 0; // examples left without a labelled token (after truncation)
  int64_t target_tokens = 0;
};

class SampleBuilder {
 public:
  // `template_source`: the chat template to use; empty = the tokenizer's own (an error when it has none).
  SampleBuilder(const tokenizer::Tokenizer& tokenizer, const std::string& template_source, SampleOptions options);

  Sample build(const ChatExample& example) const;
  // Builds all, counting truncations; fails when no example keeps a labelled token.
  SampleSet build_all(const std::vector<ChatExample>& examples) const;

  bool adds_bos() const { return adds_bos_; }
  const chat::ChatTemplate& chat_template() const { return template_; }

 private:
  std::vector<int32_t> encode(const std::string& text) const;
  // Token index where the character range starting at `chars` begins (prefix encoding).
  size_t token_boundary(const std::string& text, size_t chars, const std::vector<int32_t>& ids, bool is_end) const;

  const tokenizer::Tokenizer& tokenizer_;
  chat::ChatTemplate template_;
  SampleOptions options_;
  bool adds_bos_ = false;
  std::optional<int32_t> bos_id_, eos_id_;
};

}  // namespace slmtune::train
