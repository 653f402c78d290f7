// libFuzzer target: arbitrary bytes (often invalid UTF-8) through small tokenizers built in memory —
// a byte-level BPE with added tokens, a SentencePiece-style BPE with byte fallback, and two behind
// lossy normalizers (BERT's with WordPiece; a Precompiled charsmap + NFKC with Unigram).
// Encoding must never crash, ids must lie in the vocabulary, and where the input is valid UTF-8
// both are lossless, so decode(encode(x)) == x must hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/error.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/utf8.hpp"

namespace {

using slmtune::tokenizer::JsonValue;
using slmtune::tokenizer::Tokenizer;

Tokenizer byte_level() {
  JsonValue vocab = JsonValue::object();
  for (int b = 0; b < 256; ++b) vocab[slmtune::tokenizer::byte_to_unicode(static_cast<uint8_t>(b))] = b;
  vocab["\xC4\xA0t"] = 256;
  vocab["he"] = 257;
  vocab["\xC4\xA0the"] = 258;
  vocab["<|end|>"] = 259;
  JsonValue root = {
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"\xC4\xA0 t", "h e", "\xC4\xA0t he"}}}},
      {"added_tokens",
       {{{"id", 259}, {"content", "<|end|>"}, {"special", true}},
        {{"id", 260}, {"content", "   "}, {"special", false}, {"normalized", false}}}}};
  return slmtune::tokenizer::tokenizer_from_json(root, "byte-level");
}

Tokenizer sentencepiece() {
  JsonValue vocab = JsonValue::object();
  int id = 0;
  vocab["<unk>"] = id++;
  for (int b = 0; b < 256; ++b) vocab[fmt::format("<0x{:02X}>", b)] = id++;
  for (const char* piece : {"\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab", "\xE2\x96\x81" "ab", "\xE2\x96\x81\xE2\x96\x81"})
    vocab[piece] = id++;
  JsonValue root = {
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"}, {"vocab", vocab}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true},
        {"merges", {"\xE2\x96\x81 a", "a b", "\xE2\x96\x81" "a b", "\xE2\x96\x81 \xE2\x96\x81"}}}}};
  return slmtune::tokenizer::tokenizer_from_json(root, "sentencepiece");
}

// Lossy normalizers: BERT's (controls dropped, CJK spaced, accents stripped via NFD, lowercase) with
// WordPiece, and a Precompiled charsmap (one rule, A → a) followed by NFKC with Unigram.
Tokenizer bert() {
  JsonValue root = {
      {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model",
       {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"max_input_chars_per_word", 20},
        {"vocab", {{"[UNK]", 0}, {"a", 1}, {"##b", 2}, {"ab", 3}, {"\xE4\xB8\xAD", 4}, {",", 5}, {"##\xC3\xA9", 6}}}}}};
  return slmtune::tokenizer::tokenizer_from_json(root, "bert");
}

Tokenizer precompiled_unigram() {
  JsonValue root = {
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Precompiled"}, {"precompiled_charsmap", "CAEAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBQAAAAAAgGEA"}}, {{"type", "NFKC"}}}}}},
      {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}},
      {"decoder", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "always"}}},
      {"model",
       {{"type", "Unigram"}, {"unk_id", 0}, {"byte_fallback", false},
        // Explicit arrays: a list of [string, value] pairs would otherwise become a JSON object.
        {"vocab", JsonValue::array({JsonValue::array({"<unk>", 0.0}), JsonValue::array({"\xE2\x96\x81" "a", -1.0}),
                                    JsonValue::array({"b", -2.0}), JsonValue::array({"\xE2\x96\x81", -3.0}),
                                    JsonValue::array({"a", -3.0})})}}}};
  return slmtune::tokenizer::tokenizer_from_json(root, "precompiled");
}

void check(const Tokenizer& tok, const std::string& text, bool lossless) {
  const auto ids = tok.encode(text, false, false);
  for (auto id : ids)
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) std::abort();
  const std::string decoded = tok.decode(ids);
  if (lossless && slmtune::tokenizer::is_valid_utf8(text) && decoded != text) std::abort();
  (void)tok.decode(tok.encode(text, true, true), true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Tokenizer bpe = byte_level();
  static const Tokenizer spm = sentencepiece();
  static const Tokenizer wordpiece = bert();
  static const Tokenizer unigram = precompiled_unigram();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    check(bpe, text, true);
    // SentencePiece-style decoding turns every "▁" into a space and drops one leading space, so
    // texts holding a literal "▁" or starting with a space cannot come back byte for byte.
    check(spm, text, text.find("\xE2\x96\x81") == std::string::npos && (text.empty() || text[0] != ' '));
    check(wordpiece, text, false);
    check(unigram, text, false);
  } catch (const slmtune::Error&) {
  }
  return 0;
}
