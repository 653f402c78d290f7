#pragma once
// BERT's text preparation as HF tokenizers does it: BertNormalizer (drop control characters, map
// whitespace to spaces, space out CJK ideographs, strip accents, lowercase) and BertPreTokenizer
// (split at whitespace, then isolate every punctuation character). Character classes come from
// ICU's Unicode properties.
#include <memory>

#include "tokenizer/normalizers.hpp"
#include "tokenizer/pre_tokenizers.hpp"

namespace slmtune::tokenizer {

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // HF's null means "as lowercase"
  bool lowercase = true;
};

std::unique_ptr<Normalizer> bert_normalizer(BertNormalizerOptions options);
std::unique_ptr<PreTokenizer> bert_pre_tokenizer();

}  // namespace slmtune::tokenizer
