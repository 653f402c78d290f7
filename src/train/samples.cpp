#include "train/samples.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"

namespace slmtune::train {
namespace {

chat::SpecialTokens special_tokens(const tokenizer::TokenizerConfig& c) {
  return chat::SpecialTokens{c.bos_token, c.eos_token, c.pad_token, c.unk_token};
}

std::string template_of(const tokenizer::Tokenizer& tok, const std::string& source) {
  if (!source.empty()) return source;
  if (const std::string* own = tok.config().chat_template()) return *own;
  if (!tok.config().chat_templates.empty()) return tok.config().chat_templates.front().source;
  fail("the tokenizer has no chat template: set chat_template in the training config (a built-in name or a file)");
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  return static_cast<size_t>(std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin());
}

}  // namespace

TrainOn parse_train_on(const std::string& name) {
  if (name == "assistant") return TrainOn::assistant;
  if (name == "all") return TrainOn::all;
  fail("train_on '{}': expected assistant or all", name);
}

SampleBuilder::SampleBuilder(const tokenizer::Tokenizer& tokenizer, const std::string& template_source,
                             SampleOptions options)
    : tokenizer_(tokenizer),
      template_(template_of(tokenizer, template_source), special_tokens(tokenizer.config()), "chat_template"),
      options_(options) {
  const auto& c = tokenizer.config();
  if (c.bos_token) bos_id_ = tokenizer.token_to_id(*c.bos_token);
  if (c.eos_token) eos_id_ = tokenizer.token_to_id(*c.eos_token);
  if (c.add_bos_token) {
    adds_bos_ = *c.add_bos_token && bos_id_.has_value();
  } else if (bos_id_) {
    // No explicit setting: the post-processor decides, so ask it.
    const auto probe = tokenizer.encode("a", true);
    adds_bos_ = !probe.empty() && probe.front() == *bos_id_;
  }
  if (options_.max_seq_len < 0) fail("max_seq_len {}: expected 0 (no limit) or a positive length", options_.max_seq_len);
}

std::vector<int32_t> SampleBuilder::encode(const std::string& text) const {
  std::vector<int32_t> out;
  if (adds_bos_) out.push_back(*bos_id_);
  // Special tokens in the rendered text (<|user|>, <|end|>, …) are those tokens, as in HF.
  const auto ids = tokenizer_.encode(text, false, true);
  out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

size_t SampleBuilder::token_boundary(const std::string& text, size_t chars, const std::vector<int32_t>& ids,
                                     bool is_end) const {
  const auto prefix = encode(text.substr(0, chars));
  const size_t same = static_cast<size_t>(
      std::mismatch(prefix.begin(), prefix.end(), ids.begin(), ids.end()).first - prefix.begin());
  // A token that straddles the boundary belongs to the assistant span at either end.
  if (same == prefix.size()) return same;
  return is_end ? std::min(same + 1, ids.size()) : same;
}

Sample SampleBuilder::build(const ChatExample& example) const {
  chat::ApplyOptions apply;
  apply.tools = example.tools;
  apply.tokenizer_adds_bos = adds_bos_;
  chat::Rendered full;
  try {
    full = template_.apply(example.messages, apply);
  } catch (const Error& e) {
    fail("{}: {}", example.origin, e.what());
  }
  Sample s;
  s.ids = encode(full.text);
  s.labels.assign(s.ids.size(), kIgnoreIndex);
  if (options_.train_on == TrainOn::all) {
    s.labels = s.ids;
  } else {
    std::vector<std::pair<size_t, size_t>> spans;        // characters of full.text
    std::vector<std::pair<size_t, size_t>> token_spans;  // positions in s.ids
    if (!full.generation.empty()) {
      for (const auto& g : full.generation) spans.emplace_back(g.begin, g.end);
    } else {
      const Json& messages = example.messages;
      for (size_t i = 0; i < messages.size(); ++i) {
        if (messages[i]["role"] != "assistant") continue;
        const Json before(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(i));
        const Json through(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        chat::ApplyOptions prompt = apply;
        prompt.add_generation_prompt = true;
        try {
          // Compared in tokens, not characters: the text after a reply (the next turn, or the EOS a
          // shorter conversation ends with) may share leading characters such as "<|" with it.
          const auto start_ids = encode(template_.apply(before, prompt).text);
          const auto end_ids = encode(template_.apply(through, apply).text);
          const size_t first = common_prefix(start_ids, s.ids);
          const size_t last = common_prefix(end_ids, s.ids);
          if (last <= first)
            fail("{}: messages[{}]: the chat template renders this assistant message as nothing", example.origin, i);
          token_spans.emplace_back(first, last);
        } catch (const Error& e) {
          fail("{}: rendering up to messages[{}]: {}", example.origin, i, e.what());
        }
      }
    }
    for (const auto& [begin, end] : spans)
      token_spans.emplace_back(token_boundary(full.text, begin, s.ids, false), token_boundary(full.text, end, s.ids, true));
    for (auto [first, last] : token_spans) {
      if (eos_id_ && last < s.ids.size() && s.ids[last] == *eos_id_) ++last;
      for (size_t t = first; t < last; ++t) s.labels[t] = s.ids[t];
    }
  }
  return s;
}

SampleSet SampleBuilder::build_all(const std::vector<ChatExample>& examples) const {
  SampleSet out;
  for (const auto& example : examples) {
    Sample s = build(example);
    if (options_.max_seq_len > 0 && static_cast<int64_t>(s.ids.size()) > options_.max_seq_len) {
      s.ids.resize(static_cast<size_t>(options_.max_seq_len));
      s.labels.resize(static_cast<size_t>(options_.max_seq_len));
      ++out.truncated;
    }
    // Position 0 is never a target (nothing precedes it), so it does not count.
    const auto targets = std::count_if(s.labels.begin() + (s.labels.empty() ? 0 : 1), s.labels.end(),
                                       [](int32_t l) { return l != kIgnoreIndex; });
    if (targets == 0) {
      ++out.dropped_no_targets;
      log::warn("{}: no assistant token left to train on (max_seq_len {}); example skipped", example.origin,
                options_.max_seq_len);
      continue;
    }
    out.target_tokens += targets;
    out.samples.push_back(std::move(s));
  }
  if (out.samples.empty())
    fail("no training example has a token to train on ({} examples, {} truncated to max_seq_len {})", examples.size(),
         out.truncated, options_.max_seq_len);
  return out;
}

}  // namespace slmtune::train
