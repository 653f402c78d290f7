#include "tokenizer/byte_level.hpp"

#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

struct ByteTables {
  std::array<std::string, 256> to_unicode;
  std::array<std::array<char, 2>, 256> packed{};  // the same, as 1 or 2 UTF-8 bytes
  std::array<uint8_t, 256> packed_length{};
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
      packed_length[b] = static_cast<uint8_t>(to_unicode[b].size());
      for (size_t i = 0; i < to_unicode[b].size(); ++i) packed[b][i] = to_unicode[b][i];
    }
  }
};

// Built before main (nothing else at static-initialization time maps bytes), so the per-piece
// calls below need no thread-safe initialization guard.
const ByteTables kTables;

const ByteTables& tables() { return kTables; }

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return tables().to_unicode[byte]; }

size_t write_bytes_as_unicode(char* out, std::string_view text) {
  // Every stand-in is at most 2 bytes: write both and advance by the real length (a per-byte
  // append costs several times more; this runs on every byte of byte-level input).
  char* write = out;
  for (char c : text) {
    const auto b = static_cast<uint8_t>(c);
    write[0] = kTables.packed[b][0];
    write[1] = kTables.packed[b][1];
    write += kTables.packed_length[b];
  }
  return static_cast<size_t>(write - out);
}

void append_bytes_as_unicode(std::string& out, std::string_view text) {
  const size_t old_size = out.size();
  out.resize(old_size + 2 * text.size());
  out.resize(old_size + write_bytes_as_unicode(out.data() + old_size, text));
}

std::string bytes_to_unicode(std::string_view text) {
  std::string out;
  append_bytes_as_unicode(out, text);
  return out;
}

int unicode_to_byte(char32_t cp) {
  const auto& table = tables().to_byte;
  return cp < table.size() ? table[cp] : -1;
}

}  // namespace slmtune::tokenizer
