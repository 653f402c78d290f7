#include "tokenizer/bpe_trainer.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

using Pair = std::pair<int32_t, int32_t>;

uint64_t key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct Word {
  std::vector<int32_t> symbols;
  uint64_t count;
};

struct Candidate {
  uint64_t count;
  Pair pair;
  // Max-heap: more frequent first; among equals the smaller pair (HF's order).
  bool operator<(const Candidate& other) const { return count != other.count ? count < other.count : pair > other.pair; }
};

// The pre-tokenizer the trainer counts words with and the written tokenizer.json names: one
// definition, so what was learnt and what encodes can never disagree.
JsonValue pre_tokenizer_spec(bool split_digits, const std::string& pattern) {
  const JsonValue byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", pattern.empty()}};
  JsonValue steps = JsonValue::array();
  if (split_digits) steps.push_back({{"type", "Digits"}, {"individual_digits", true}});
  if (!pattern.empty())
    steps.push_back({{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}});
  if (steps.empty()) return byte_level;
  steps.push_back(byte_level);
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

}  // namespace

TrainedBpe train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& options) {
  TrainedBpe result;
  result.special_tokens = options.special_tokens;
  result.split_digits = options.split_digits;
  result.pattern = options.pattern;
  std::unordered_map<std::string, int32_t> ids;
  const auto add_token = [&](const std::string& token) {
    if (ids.count(token)) return;
    ids.emplace(token, static_cast<int32_t>(result.tokens.size()));
    result.tokens.push_back(token);
  };
  for (const auto& special : options.special_tokens) {
    if (special.empty()) fail("tokenizer train: a special token must not be empty");
    add_token(special);
  }
  for (int b = 0; b < 256; ++b) add_token(byte_to_unicode(static_cast<uint8_t>(b)));
  if (options.vocab_size < result.tokens.size())
    fail("tokenizer train: --vocab-size {} is smaller than the {} special and byte tokens it must hold", options.vocab_size,
         result.tokens.size());

  if (!options.pattern.empty()) Regex(options.pattern, "tokenizer train: --pattern");  // its own error first
  // Count pre-tokenized words (byte-level strings) over all texts.
  const auto pre = make_pre_tokenizer(pre_tokenizer_spec(options.split_digits, options.pattern), "tokenizer train: pre_tokenizer");
  std::unordered_map<std::string, uint64_t> counts;
  for (const auto& text : texts) {
    const std::string valid = sanitize_utf8(text);
    pre->pre_tokenize(valid, true, [&](std::string_view piece, bool) { ++counts[std::string(piece)]; });
  }
  std::vector<std::pair<std::string, uint64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());  // deterministic word order
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [text, count] : sorted) {
    Word word{{}, count};
    for (size_t pos = 0; pos < text.size();) {
      const size_t length = std::min(utf8_length(static_cast<unsigned char>(text[pos])), text.size() - pos);
      word.symbols.push_back(ids.at(text.substr(pos, length)));
      pos += length;
    }
    words.push_back(std::move(word));
  }

  // Pair statistics and where each pair occurs.
  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::unordered_set<size_t>> where;
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& symbols = words[w].symbols;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const uint64_t k = key(symbols[i], symbols[i + 1]);
      pair_counts[k] += static_cast<int64_t>(words[w].count);
      where[k].insert(w);
    }
  }
  std::priority_queue<Candidate> queue;
  for (const auto& [k, count] : pair_counts)
    queue.push({static_cast<uint64_t>(count), {static_cast<int32_t>(k >> 32), static_cast<int32_t>(k & 0xFFFFFFFFu)}});

  while (result.tokens.size() < options.vocab_size && !queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const uint64_t k = key(top.pair.first, top.pair.second);
    const auto current = pair_counts.find(k);
    if (current == pair_counts.end() || current->second <= 0) continue;
    if (static_cast<uint64_t>(current->second) != top.count) {
      queue.push({static_cast<uint64_t>(current->second), top.pair});  // stale: requeue with the true count
      continue;
    }
    if (top.count < std::max<uint64_t>(options.min_frequency, 1)) break;
    const std::string merged = result.tokens[top.pair.first] + result.tokens[top.pair.second];
    result.merges.emplace_back(result.tokens[top.pair.first], result.tokens[top.pair.second]);
    add_token(merged);  // a merge may rebuild a token that exists already (a special's spelling)
    const int32_t merged_id = ids.at(merged);

    // Rewrite every word containing the pair, adjusting the counts of the pairs around it.
    const std::vector<size_t> affected(where[k].begin(), where[k].end());
    std::unordered_set<uint64_t> touched;
    for (size_t w : affected) {
      auto& symbols = words[w].symbols;
      const auto count = static_cast<int64_t>(words[w].count);
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        const uint64_t old_key = key(symbols[i], symbols[i + 1]);
        pair_counts[old_key] -= count;
        touched.insert(old_key);
      }
      std::vector<int32_t> rewritten;
      rewritten.reserve(symbols.size());
      for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == top.pair.first && symbols[i + 1] == top.pair.second) {
          rewritten.push_back(merged_id);
          ++i;
        } else {
          rewritten.push_back(symbols[i]);
        }
      }
      symbols = std::move(rewritten);
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        const uint64_t new_key = key(symbols[i], symbols[i + 1]);
        pair_counts[new_key] += count;
        where[new_key].insert(w);
        touched.insert(new_key);
      }
    }
    pair_counts.erase(k);
    where.erase(k);
    for (uint64_t t : touched) {
      const auto it = pair_counts.find(t);
      if (it != pair_counts.end() && it->second > 0)
        queue.push({static_cast<uint64_t>(it->second), {static_cast<int32_t>(t >> 32), static_cast<int32_t>(t & 0xFFFFFFFFu)}});
    }
  }
  return result;
}

JsonValue TrainedBpe::to_tokenizer_json() const {
  JsonValue vocab = JsonValue::object();
  for (size_t id = 0; id < tokens.size(); ++id) vocab[tokens[id]] = id;
  JsonValue merge_list = JsonValue::array();
  for (const auto& [left, right] : merges) merge_list.push_back({left, right});
  JsonValue added = JsonValue::array();
  for (const auto& special : special_tokens) {
    const auto it = std::find(tokens.begin(), tokens.end(), special);
    added.push_back({{"id", it - tokens.begin()}, {"content", special}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  const JsonValue byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre_tokenizer_spec(split_digits, pattern)},
          {"post_processor", byte_level},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", false},
            {"vocab", vocab},
            {"merges", merge_list}}}};
}

}  // namespace slmtune::tokenizer
