#pragma once
// Unicode normalization forms (NFC, NFD, NFKC, NFKD) for HF's normalizers of those names, done by
// ICU so that the tables follow the Unicode standard rather than a hand-made subset.
#include <memory>

#include "tokenizer/normalizers.hpp"

namespace slmtune::tokenizer {

enum class UnicodeForm { nfc, nfd, nfkc, nfkd };

std::unique_ptr<Normalizer> unicode_normalizer(UnicodeForm form);

// The same transformation without a Normalizer object (the Precompiled and Bert normalizers use it).
void normalize_unicode(UnicodeForm form, std::string& text);

}  // namespace slmtune::tokenizer
