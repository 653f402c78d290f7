#include "tokenizer/decoders.hpp"

#include "core/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/json_access.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) text.replace(pos, from.size(), to);
}

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& token : tokens) {
      // A token with a character outside the byte map (an added token such as "   ") is taken as is.
      std::string mapped;
      bool all_mapped = true;
      for (size_t pos = 0; pos < token.size() && all_mapped;) {
        const int byte = unicode_to_byte(next_code_point(token, pos));
        if (byte < 0) all_mapped = false;
        else mapped.push_back(static_cast<char>(byte));
      }
      bytes += all_mapped ? mapped : token;
    }
    tokens.assign(1, sanitize_utf8(bytes));
  }
};

class ByteFallback final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;  // bytes of consecutive <0xXX> tokens
    size_t pending_count = 0;
    const auto flush = [&] {
      if (pending_count == 0) return;
      if (is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
      pending_count = 0;
    };
    for (auto& token : tokens) {
      int value = -1;
      if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
        const auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
        const int high = hex(token[3]), low = hex(token[4]);
        if (high >= 0 && low >= 0) value = high * 16 + low;
      }
      if (value >= 0) {
        pending.push_back(static_cast<char>(value));
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class Fuse final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const auto& token : tokens) joined += token;
    tokens.assign(1, std::move(joined));
  }
};

class Strip final : public Decoder {
 public:
  Strip(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    if (content_.empty()) return;
    for (auto& token : tokens) {
      size_t begin = 0, end = token.size();
      for (size_t i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0 && begin + content_.size() <= end; ++i)
        begin += content_.size();
      for (size_t i = 0; i < stop_ && end >= begin + content_.size() && token.compare(end - content_.size(), content_.size(), content_) == 0; ++i)
        end -= content_.size();
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class Replace final : public Decoder {
 public:
  Replace(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) replace_all(token, from_, to_);
  }

 private:
  std::string from_, to_;
};

class Metaspace final : public Decoder {
 public:
  Metaspace(std::string replacement, bool strip_first) : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      replace_all(tokens[i], replacement_, " ");
      if (i == 0 && strip_first_ && !tokens[i].empty() && tokens[i][0] == ' ') tokens[i].erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class Sequence final : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

size_t json_count(const JsonValue& spec, const char* key, const std::string& path) {
  const int64_t value = json_int(spec, key, path);
  if (value < 0) fail("{}.{}: expected a count >= 0, found {}", path, key, value);
  return static_cast<size_t>(value);
}

// WordPiece: continuation pieces lose their prefix and join the previous piece, other pieces get a
// space before them; `cleanup` undoes the spaces BERT-style tokenization put before punctuation
// and English contractions (HF's clean_up_tokenization, applied to each token as HF does).
// With a `word_mark` (GGUF's phantom space) it is the other way round: pieces that start a word
// carry the mark and continuations carry nothing; "[…]" tokens are whole words.
class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, std::string word_mark, bool cleanup)
      : prefix_(std::move(prefix)), word_mark_(std::move(word_mark)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& token = tokens[i];
      bool starts_word = true;
      if (!word_mark_.empty()) {
        if (token.compare(0, word_mark_.size(), word_mark_) == 0) token.erase(0, word_mark_.size());
        else starts_word = token.size() >= 2 && token.front() == '[' && token.back() == ']';
      } else if (!prefix_.empty() && token.compare(0, prefix_.size(), prefix_) == 0) {
        if (i > 0) token.erase(0, prefix_.size());
        starts_word = false;
      }
      if (i > 0 && starts_word) token = " " + token;
      if (cleanup_) {
        static const std::pair<const char*, const char*> kRules[] = {
            {" .", "."},     {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},    {" n't", "n't"},
            {" 'm", "'m"},   {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& [from, to] : kRules) replace_all(token, from, to);
      }
    }
  }

 private:
  std::string prefix_, word_mark_;
  bool cleanup_;
};

}  // namespace

std::unique_ptr<Decoder> byte_level_decoder() { return std::make_unique<ByteLevelDecoder>(); }

std::unique_ptr<Decoder> sentencepiece_decoder(bool strip_leading_space) {
  std::vector<std::unique_ptr<Decoder>> steps;
  steps.push_back(std::make_unique<Replace>("\xE2\x96\x81", " "));
  steps.push_back(std::make_unique<ByteFallback>());
  steps.push_back(std::make_unique<Fuse>());
  if (strip_leading_space) steps.push_back(std::make_unique<Strip>(" ", 1, 0));
  return std::make_unique<Sequence>(std::move(steps));
}

std::unique_ptr<Decoder> wordpiece_decoder(std::string continuation_prefix, std::string word_mark, bool cleanup) {
  return std::make_unique<WordPieceDecoder>(std::move(continuation_prefix), std::move(word_mark), cleanup);
}

std::unique_ptr<Decoder> make_decoder(const JsonValue& spec, const std::string& path) {
  const std::string type = json_string(spec, "type", path);
  if (type == "Sequence") {
    const JsonValue& items = json_array(spec, "decoders", path);
    std::vector<std::unique_ptr<Decoder>> steps;
    for (size_t i = 0; i < items.size(); ++i) steps.push_back(make_decoder(items[i], fmt::format("{}.decoders[{}]", path, i)));
    return std::make_unique<Sequence>(std::move(steps));
  }
  if (type == "ByteLevel") return byte_level_decoder();
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip")
    return std::make_unique<Strip>(json_string(spec, "content", path), json_count(spec, "start", path), json_count(spec, "stop", path));
  if (type == "Replace") {
    const auto [is_regex, pattern] = json_pattern(spec, path);
    if (is_regex) fail("{}.pattern: a Regex pattern in the Replace decoder is not supported (only String)", path);
    return std::make_unique<Replace>(pattern, json_string(spec, "content", path));
  }
  if (type == "Metaspace") {
    bool strip_first = json_bool(spec, "add_prefix_space", path, true);
    if (spec.contains("prepend_scheme")) strip_first = json_string(spec, "prepend_scheme", path) != "never";
    return std::make_unique<Metaspace>(json_char(spec, "replacement", path), strip_first);
  }
  if (type == "WordPiece") return wordpiece_decoder(json_string_or(spec, "prefix", path, "##"), "", json_bool(spec, "cleanup", path, true));
  fail("{}: decoder type '{}' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, "
       "WordPiece)",
       path, type);
}

}  // namespace slmtune::tokenizer
