#pragma once
// UTF-8 helpers shared by the tokenizer stages. Every stage after `sanitize_utf8` may assume valid
// UTF-8, which is what PCRE2 (run without its own check, for speed) and the byte-level map need.
#include <cstdint>
#include <string>
#include <string_view>

namespace slmtune::tokenizer {

// Replaces each maximal invalid subsequence with U+FFFD, as Python's errors="replace" does, so
// that arbitrary bytes can be tokenized without undefined behaviour downstream.
std::string sanitize_utf8(std::string_view text);
bool is_valid_utf8(std::string_view text);

// Length of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte).
inline size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at `pos` of valid UTF-8 and advances `pos`.
char32_t next_code_point(std::string_view text, size_t& pos);
void append_utf8(std::string& out, char32_t cp);

// Unicode White_Space, the set Rust's char::is_whitespace uses (HF trims and strips with it).
bool is_unicode_whitespace(char32_t cp);
// Rust's char::is_alphanumeric approximated by PCRE2's \p{L}|\p{N} classes; used for single_word.
bool is_word_character(char32_t cp);

}  // namespace slmtune::tokenizer
