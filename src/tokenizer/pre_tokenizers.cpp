#include "tokenizer/pre_tokenizers.hpp"

#include "core/error.hpp"
#include "tokenizer/bert_text.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/json_access.hpp"
#include "tokenizer/regex.hpp"

namespace slmtune::tokenizer {

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {

// Streams the pieces `regex` cuts `text` into; `invert` swaps what counts as the delimiter.
void split_with_regex(const Regex& regex, SplitBehavior behavior, bool invert, std::string_view text, bool at_start,
                      const PieceSink& sink) {
  if (behavior == SplitBehavior::isolated) {
    // Matches and the text between them are all pieces (so `invert` changes nothing). This is
    // every byte-level tokenizer's split, so it skips the assembler's indirection.
    size_t last = 0;
    regex.for_each_match(text, [&](size_t begin, size_t end) {
      if (begin > last) sink(text.substr(last, begin - last), at_start && last == 0);
      sink(text.substr(begin, end - begin), at_start && begin == 0);
      last = end;
    });
    if (last < text.size()) sink(text.substr(last), at_start && last == 0);
    return;
  }
  PieceAssembler assembler(behavior, [&](size_t begin, size_t end) {
    sink(text.substr(begin, end - begin), at_start && begin == 0);
  });
  size_t last = 0;
  regex.for_each_match(text, [&](size_t begin, size_t end) {
    if (begin > last) assembler.region(last, begin, invert);
    assembler.region(begin, end, !invert);
    last = end;
  });
  if (last < text.size()) assembler.region(last, text.size(), invert);
  assembler.finish(text.size());
}

class RegexSplit final : public PreTokenizer {
 public:
  RegexSplit(const std::string& pattern, SplitBehavior behavior, bool invert, const std::string& origin)
      : regex_(pattern, origin), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::string_view text, bool at_start, const PieceSink& sink) const override {
    split_with_regex(regex_, behavior_, invert_, text, at_start, sink);
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, "ByteLevel");
  }
  ByteLevel(const std::string& pattern, const std::string& origin)
      : add_prefix_space_(false), regex_(std::make_unique<Regex>(pattern, origin)) {}
  void pre_tokenize(std::string_view text, bool at_start, const PieceSink& sink) const override {
    std::string prefixed;
    if (add_prefix_space_ && (text.empty() || text.front() != ' ')) {
      prefixed.reserve(text.size() + 1);
      prefixed.push_back(' ');
      prefixed.append(text);
      text = prefixed;
    }
    std::string mapped;  // reused across pieces; only grows
    const auto emit_mapped = [&](std::string_view piece, bool piece_at_start) {
      if (mapped.size() < 2 * piece.size()) mapped.resize(2 * piece.size());
      sink(std::string_view(mapped.data(), write_bytes_as_unicode(mapped.data(), piece)), piece_at_start);
    };
    if (regex_) split_with_regex(*regex_, SplitBehavior::isolated, false, text, at_start, emit_mapped);
    else if (!text.empty()) emit_mapped(text, at_start);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class Metaspace final : public PreTokenizer {
 public:
  enum class Prepend { always, first, never };
  Metaspace(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}
  void pre_tokenize(std::string_view piece, bool at_start, const PieceSink& sink) const override {
    std::string text;
    text.reserve(piece.size() + replacement_.size());
    for (char c : piece) {
      if (c == ' ') text += replacement_;
      else text.push_back(c);
    }
    const bool prepend = prepend_ == Prepend::always || (prepend_ == Prepend::first && at_start);
    if (prepend && text.compare(0, replacement_.size(), replacement_) != 0) text.insert(0, replacement_);
    if (!split_) {
      if (!text.empty()) sink(text, at_start);
      return;
    }
    PieceAssembler assembler(SplitBehavior::merged_with_next,
                             [&](size_t begin, size_t end) { sink(std::string_view(text).substr(begin, end - begin), at_start && begin == 0); });
    size_t last = 0;
    for (size_t pos = text.find(replacement_); pos != std::string::npos; pos = text.find(replacement_, pos + replacement_.size())) {
      if (pos > last) assembler.region(last, pos, false);
      assembler.region(pos, pos + replacement_.size(), true);
      last = pos + replacement_.size();
    }
    if (last < text.size()) assembler.region(last, text.size(), false);
    assembler.finish(text.size());
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::string_view text, bool at_start, const PieceSink& sink) const override { run(0, text, at_start, sink); }

 private:
  struct Stage {
    const Sequence* self;
    size_t step;
    const PieceSink* sink;
  };
  void run(size_t step, std::string_view text, bool at_start, const PieceSink& sink) const {
    if (step == steps_.size()) {
      sink(text, at_start);
      return;
    }
    // The lambda captures one pointer so std::function stores it inline: no allocation per piece.
    const Stage next{this, step + 1, &sink};
    steps_[step]->pre_tokenize(text, at_start, [stage = &next](std::string_view piece, bool piece_at_start) {
      stage->self->run(stage->step, piece, piece_at_start, *stage->sink);
    });
  }
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

Metaspace::Prepend metaspace_prepend(const JsonValue& spec, const std::string& path) {
  if (spec.contains("prepend_scheme")) {
    const std::string scheme = json_string(spec, "prepend_scheme", path);
    if (scheme == "always") return Metaspace::Prepend::always;
    if (scheme == "first") return Metaspace::Prepend::first;
    if (scheme == "never") return Metaspace::Prepend::never;
    fail("{}.prepend_scheme: expected always, first or never, found '{}'", path, scheme);
  }
  // Files written before prepend_scheme existed say add_prefix_space instead.
  return json_bool(spec, "add_prefix_space", path, true) ? Metaspace::Prepend::always : Metaspace::Prepend::never;
}

}  // namespace

std::vector<std::string> PreTokenizer::pieces(std::string_view text, bool at_start) const {
  std::vector<std::string> out;
  pre_tokenize(text, at_start, [&](std::string_view piece, bool) { out.emplace_back(piece); });
  return out;
}

std::unique_ptr<PreTokenizer> isolated_regex_split(const std::string& pattern, const std::string& origin) {
  return std::make_unique<RegexSplit>(pattern, SplitBehavior::isolated, false, origin);
}
std::unique_ptr<PreTokenizer> byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevel>(add_prefix_space, use_regex);
}
std::unique_ptr<PreTokenizer> byte_level_with_patterns(const std::vector<std::string>& patterns, const std::string& origin) {
  if (patterns.size() == 1) return std::make_unique<ByteLevel>(patterns.front(), origin);
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  for (const auto& pattern : patterns) steps.push_back(isolated_regex_split(pattern, origin));
  steps.push_back(byte_level_pre_tokenizer(false, false));
  return sequence_pre_tokenizer(std::move(steps));
}
std::unique_ptr<PreTokenizer> sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) {
  return std::make_unique<Sequence>(std::move(steps));
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonValue& spec, const std::string& path) {
  const std::string type = json_string(spec, "type", path);
  if (type == "Sequence") {
    const JsonValue& items = json_array(spec, "pretokenizers", path);
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < items.size(); ++i)
      steps.push_back(make_pre_tokenizer(items[i], fmt::format("{}.pretokenizers[{}]", path, i)));
    return sequence_pre_tokenizer(std::move(steps));
  }
  if (type == "ByteLevel")
    return byte_level_pre_tokenizer(json_bool(spec, "add_prefix_space", path, true), json_bool(spec, "use_regex", path, true));
  if (type == "Split") {
    const auto [is_regex, pattern] = json_pattern(spec, path);
    const auto behavior = parse_split_behavior(json_string(spec, "behavior", path), path + ".behavior");
    return std::make_unique<RegexSplit>(is_regex ? pattern : regex_escape(pattern), behavior,
                                        json_bool(spec, "invert", path, false), path + ".pattern");
  }
  if (type == "Metaspace") {
    return std::make_unique<Metaspace>(json_char(spec, "replacement", path), metaspace_prepend(spec, path),
                                       json_bool(spec, "split", path, true));
  }
  if (type == "BertPreTokenizer") return bert_pre_tokenizer();
  if (type == "WhitespaceSplit") return std::make_unique<RegexSplit>(R"(\s+)", SplitBehavior::removed, false, path);
  if (type == "Whitespace") return std::make_unique<RegexSplit>(R"(\w+|[^\w\s]+)", SplitBehavior::removed, true, path);
  if (type == "Digits") {
    const bool individual = json_bool(spec, "individual_digits", path, false);
    return std::make_unique<RegexSplit>(individual ? R"(\p{N})" : R"(\p{N}+)", SplitBehavior::isolated, false, path);
  }
  if (type == "Punctuation") {
    const std::string behavior = json_string_or(spec, "behavior", path, "Isolated");
    return std::make_unique<RegexSplit>(R"([\p{P}!-/:-@\[-`{-~])", parse_split_behavior(behavior, path + ".behavior"),
                                        false, path);
  }
  fail("{}: pre-tokenizer type '{}' is not supported (supported: Sequence, ByteLevel, Split, Metaspace, "
       "Whitespace, WhitespaceSplit, Digits, Punctuation, BertPreTokenizer)",
       path, type);
}

}  // namespace slmtune::tokenizer
