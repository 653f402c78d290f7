#include "tokenizer/normalizers.hpp"

#include "core/error.hpp"
#include "tokenizer/bert_text.hpp"
#include "tokenizer/json_access.hpp"
#include "tokenizer/precompiled_normalizer.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode_normalizers.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  // HF prepends only to non-empty text, so the empty pieces between added tokens stay empty.
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceString final : public Normalizer {
 public:
  ReplaceString(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void normalize(std::string& text) const override {
    if (from_.empty() || text.find(from_) == std::string::npos) return;
    std::string out;
    out.reserve(text.size() + text.size() / 4);
    size_t last = 0;
    for (size_t pos = text.find(from_); pos != std::string::npos; pos = text.find(from_, last)) {
      out.append(text, last, pos - last).append(to_);
      last = pos + from_.size();
    }
    out.append(text, last);
    text = std::move(out);
  }

 private:
  std::string from_, to_;
};

class ReplaceRegex final : public Normalizer {
 public:
  ReplaceRegex(std::string pattern, std::string to, const std::string& path) : regex_(std::move(pattern), path), to_(std::move(to)) {}
  void normalize(std::string& text) const override {
    const auto matches = regex_.find_all(text);
    if (matches.empty()) return;
    std::string out;
    size_t last = 0;
    for (const auto& [begin, end] : matches) {
      out.append(text, last, begin - last).append(to_);
      last = end;
    }
    out.append(text, last);
    text = std::move(out);
  }

 private:
  Regex regex_;
  std::string to_;
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t probe = start;
        if (!is_unicode_whitespace(next_code_point(text, probe))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

}  // namespace

std::unique_ptr<Normalizer> prepend_normalizer(std::string prefix) { return std::make_unique<Prepend>(std::move(prefix)); }
std::unique_ptr<Normalizer> replace_normalizer(std::string from, std::string to) {
  return std::make_unique<ReplaceString>(std::move(from), std::move(to));
}
std::unique_ptr<Normalizer> sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> steps) {
  return std::make_unique<Sequence>(std::move(steps));
}

std::unique_ptr<Normalizer> make_normalizer(const JsonValue& spec, const std::string& path) {
  const std::string type = json_string(spec, "type", path);
  if (type == "Sequence") {
    const JsonValue& items = json_array(spec, "normalizers", path);
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < items.size(); ++i) steps.push_back(make_normalizer(items[i], fmt::format("{}.normalizers[{}]", path, i)));
    return sequence_normalizer(std::move(steps));
  }
  if (type == "Prepend") return prepend_normalizer(json_string(spec, "prepend", path));
  if (type == "Replace") {
    const auto [is_regex, pattern] = json_pattern(spec, path);
    std::string content = json_string(spec, "content", path);
    if (is_regex) return std::make_unique<ReplaceRegex>(pattern, std::move(content), path + ".pattern");
    return replace_normalizer(pattern, std::move(content));
  }
  if (type == "Lowercase") return lowercase_normalizer();
  if (type == "Strip") return std::make_unique<Strip>(json_bool(spec, "strip_left", path, true), json_bool(spec, "strip_right", path, true));
  if (type == "BertNormalizer") {
    BertNormalizerOptions options;
    options.clean_text = json_bool(spec, "clean_text", path, true);
    options.handle_chinese_chars = json_bool(spec, "handle_chinese_chars", path, true);
    options.lowercase = json_bool(spec, "lowercase", path, true);
    options.strip_accents = json_bool(spec, "strip_accents", path, options.lowercase);
    return bert_normalizer(options);
  }
  if (type == "NFC") return unicode_normalizer(UnicodeForm::nfc);
  if (type == "NFD") return unicode_normalizer(UnicodeForm::nfd);
  if (type == "NFKC") return unicode_normalizer(UnicodeForm::nfkc);
  if (type == "NFKD") return unicode_normalizer(UnicodeForm::nfkd);
  if (type == "Precompiled") {
    const auto it = spec.find("precompiled_charsmap");
    if (it == spec.end() || it->is_null()) return precompiled_normalizer("", path);
    return precompiled_normalizer(json_string(spec, "precompiled_charsmap", path), path + ".precompiled_charsmap");
  }
  fail("{}: normalizer type '{}' is not supported (supported: Sequence, Prepend, Replace, Lowercase, Strip, NFC, NFD, "
       "NFKC, NFKD, Precompiled, BertNormalizer)",
       path, type);
}

}  // namespace slmtune::tokenizer
