#pragma once
// Unicode normalization forms (NFC, NFD, NFKC, NFKD) and lowercasing for HF's normalizers of those
// names, done by ICU so that the tables follow the Unicode standard rather than a hand-made subset.
#include <memory>

#include "tokenizer/normalizers.hpp"

namespace slmtune::tokenizer {

enum class UnicodeForm { nfc, nfd, nfkc, nfkd };

std::unique_ptr<Normalizer> unicode_normalizer(UnicodeForm form);

// The same transformation without a Normalizer object (the Bert normalizer uses it).
void normalize_unicode(UnicodeForm form, std::string& text);

// Rust's char::to_lowercase (what HF's Lowercase and BertNormalizer apply), character by
// character, so without context: Σ is always σ. ICU's simple mapping plus the one unconditional
// multi-character lowercase mapping (İ → i + combining dot above).
void append_lowercase(std::string& out, char32_t cp);
std::unique_ptr<Normalizer> lowercase_normalizer();

}  // namespace slmtune::tokenizer
