#include "tokenizer/bert_text.hpp"

#include <unicode/uchar.h>

#include "tokenizer/unicode_normalizers.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

// Tab, newline and carriage return count as whitespace although they are control characters.
bool is_bert_whitespace(char32_t cp) { return cp == '\t' || cp == '\n' || cp == '\r' || u_isUWhiteSpace(static_cast<UChar32>(cp)); }

// "Other" general categories (Cc, Cf, Cs, Co, Cn), except the whitespace controls.
bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

// The CJK Unified Ideograph blocks BERT's original code lists (not all of CJK: kana and Hangul
// are written with spaces and are left alone).
bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_bert_punctuation(char32_t cp) {
  if (cp < 0x80) return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~');
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

class BertNormalizer final : public Normalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options) : options_(options) {}
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (size_t pos = 0; pos < text.size();) {
      const char32_t cp = next_code_point(text, pos);
      if (options_.clean_text) {
        if (cp == 0 || cp == 0xFFFD || is_bert_control(cp)) continue;
        if (is_bert_whitespace(cp)) {
          out.push_back(' ');
          continue;
        }
      }
      if (options_.handle_chinese_chars && is_cjk_ideograph(cp)) {
        out.push_back(' ');
        append_utf8(out, cp);
        out.push_back(' ');
        continue;
      }
      append_utf8(out, cp);
    }
    if (options_.strip_accents) {
      normalize_unicode(UnicodeForm::nfd, out);
      std::string kept;
      kept.reserve(out.size());
      for (size_t pos = 0; pos < out.size();) {
        const size_t begin = pos;
        const char32_t cp = next_code_point(out, pos);
        if (u_charType(static_cast<UChar32>(cp)) != U_NON_SPACING_MARK) kept.append(out, begin, pos - begin);
      }
      out = std::move(kept);
    }
    if (options_.lowercase) {
      std::string lowered;
      lowered.reserve(out.size());
      for (size_t pos = 0; pos < out.size();) append_lowercase(lowered, next_code_point(out, pos));
      out = std::move(lowered);
    }
    text = std::move(out);
  }

 private:
  BertNormalizerOptions options_;
};

class BertPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(std::string_view text, bool at_start, const PieceSink& sink) const override {
    size_t word_begin = 0;
    const auto emit = [&](size_t begin, size_t end) {
      if (end > begin) sink(text.substr(begin, end - begin), at_start && begin == 0);
    };
    for (size_t pos = 0; pos < text.size();) {
      const size_t begin = pos;
      const char32_t cp = next_code_point(text, pos);
      if (is_bert_whitespace(cp)) {
        emit(word_begin, begin);
        word_begin = pos;
      } else if (is_bert_punctuation(cp)) {
        emit(word_begin, begin);
        emit(begin, pos);
        word_begin = pos;
      }
    }
    emit(word_begin, text.size());
  }
};

}  // namespace

std::unique_ptr<Normalizer> bert_normalizer(BertNormalizerOptions options) { return std::make_unique<BertNormalizer>(options); }
std::unique_ptr<PreTokenizer> bert_pre_tokenizer() { return std::make_unique<BertPreTokenizer>(); }

}  // namespace slmtune::tokenizer
