#include "tokenizer/byte_level.hpp"

#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

struct ByteTables {
  std::array<std::string, 256> to_unicode;
  std::array<int, 324> to_byte{};  // stand-ins all lie below U+0144
  ByteTables() {
    to_byte.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the others get U+0100 upwards, in byte order.
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(to_unicode[b], cp);
      to_byte[cp] = b;
    }
  }
};

const ByteTables& tables() {
  static const ByteTables instance;
  return instance;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return tables().to_unicode[byte]; }

std::string bytes_to_unicode(std::string_view text) {
  const auto& table = tables().to_unicode;
  std::string out;
  out.reserve(text.size() * 2);
  for (char c : text) out += table[static_cast<uint8_t>(c)];
  return out;
}

int unicode_to_byte(char32_t cp) {
  const auto& table = tables().to_byte;
  return cp < table.size() ? table[cp] : -1;
}

}  // namespace slmtune::tokenizer
