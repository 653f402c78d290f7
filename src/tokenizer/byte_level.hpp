#pragma once
// GPT-2's reversible byte ↔ printable-character map: every byte becomes one visible code point so
// that BPE can work on "characters" while still covering arbitrary bytes (space → Ġ, \n → Ċ).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace slmtune::tokenizer {

// The UTF-8 encoding of the code point that stands for `byte`.
const std::string& byte_to_unicode(uint8_t byte);
// Maps every byte of `text` to its stand-in.
std::string bytes_to_unicode(std::string_view text);
void append_bytes_as_unicode(std::string& out, std::string_view text);
// Writes the stand-ins of `text` to `out`, which must hold 2 * text.size() bytes; returns the length.
size_t write_bytes_as_unicode(char* out, std::string_view text);
// Inverse for one code point: the byte, or -1 if `cp` stands for no byte.
int unicode_to_byte(char32_t cp);

}  // namespace slmtune::tokenizer
