#include "tokenizer/unicode_normalizers.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>

#include <climits>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

const char* form_name(UnicodeForm form) {
  switch (form) {
    case UnicodeForm::nfc: return "NFC";
    case UnicodeForm::nfd: return "NFD";
    case UnicodeForm::nfkc: return "NFKC";
    case UnicodeForm::nfkd: return "NFKD";
  }
  return "?";
}

// ICU hands out process-wide immutable instances; they are safe to share between threads.
const icu::Normalizer2& instance(UnicodeForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case UnicodeForm::nfc: normalizer = icu::Normalizer2::getNFCInstance(status); break;
    case UnicodeForm::nfd: normalizer = icu::Normalizer2::getNFDInstance(status); break;
    case UnicodeForm::nfkc: normalizer = icu::Normalizer2::getNFKCInstance(status); break;
    case UnicodeForm::nfkd: normalizer = icu::Normalizer2::getNFKDInstance(status); break;
  }
  if (U_FAILURE(status) || normalizer == nullptr) fail("ICU: cannot load the {} normalization data: {}", form_name(form), u_errorName(status));
  return *normalizer;
}

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form), normalizer_(instance(form)) {}
  void normalize(std::string& text) const override {
    // ICU's UTF-8 entry points take int32_t lengths.
    if (text.size() > static_cast<size_t>(INT32_MAX)) fail("{} normalizer: text of {} bytes is too long (at most 2 GiB)", form_name(form_), text.size());
    const icu::StringPiece input(text.data(), static_cast<int32_t>(text.size()));
    UErrorCode status = U_ZERO_ERROR;
    // Most text is already normalized; the quick check avoids a copy then.
    if (normalizer_.isNormalizedUTF8(input, status) && U_SUCCESS(status)) return;
    status = U_ZERO_ERROR;
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    icu::StringByteSink<std::string> sink(&out);
    normalizer_.normalizeUTF8(0, input, sink, nullptr, status);
    if (U_FAILURE(status)) fail("{} normalizer: ICU failed: {}", form_name(form_), u_errorName(status));
    text = std::move(out);
  }

 private:
  UnicodeForm form_;
  const icu::Normalizer2& normalizer_;
};

class Lowercase final : public Normalizer {
 public:
  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) append_lowercase(out, next_code_point(text, pos));
    text = std::move(out);
  }
};

}  // namespace

void append_lowercase(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp));
    return;
  }
  if (cp == 0x130) {
    out += "i\xCC\x87";
    return;
  }
  append_utf8(out, static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))));
}

std::unique_ptr<Normalizer> lowercase_normalizer() { return std::make_unique<Lowercase>(); }

std::unique_ptr<Normalizer> unicode_normalizer(UnicodeForm form) { return std::make_unique<UnicodeNormalizer>(form); }

void normalize_unicode(UnicodeForm form, std::string& text) { UnicodeNormalizer(form).normalize(text); }

}  // namespace slmtune::tokenizer
