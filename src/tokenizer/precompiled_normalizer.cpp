#include "tokenizer/precompiled_normalizer.hpp"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <climits>
#include <cstring>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

// darts-clone packs each double-array unit into 32 bits: the byte label (bit 31 marks value
// units so they never match a label), a has-leaf flag at bit 8, and a 22-bit XOR offset to the
// children that bit 9 scales by 256.
constexpr uint32_t unit_label(uint32_t unit) { return unit & ((1u << 31) | 0xFFu); }
constexpr bool unit_has_leaf(uint32_t unit) { return ((unit >> 8) & 1u) != 0; }
constexpr uint32_t unit_value(uint32_t unit) { return unit & ((1u << 31) - 1); }
constexpr uint32_t unit_offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

class Precompiled final : public Normalizer {
 public:
  Precompiled(CharsMap map, const std::string& path) : map_(std::move(map)), path_(path) {
    UErrorCode status = U_ZERO_ERROR;
    graphemes_.reset(icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !graphemes_) fail("{}: ICU cannot create a grapheme iterator: {}", path, u_errorName(status));
  }

  // HF walks extended grapheme clusters: a cluster shorter than 6 bytes that starts with a rule's
  // key is replaced as a whole by that rule; otherwise each character is looked up on its own.
  void normalize(std::string& text) const override {
    if (text.empty() || map_.empty()) return;
    if (text.size() > static_cast<size_t>(INT32_MAX)) fail("{}: text of {} bytes is too long (at most 2 GiB)", path_, text.size());
    UErrorCode status = U_ZERO_ERROR;
    // A BreakIterator holds its position, so each call walks with its own copy.
    std::unique_ptr<icu::BreakIterator> graphemes(graphemes_->clone());
    icu::LocalUTextPointer utext(utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &status));
    if (graphemes) graphemes->setText(utext.getAlias(), status);
    if (U_FAILURE(status) || !graphemes) fail("{}: ICU grapheme iteration failed: {}", path_, u_errorName(status));
    std::string out;
    out.reserve(text.size());
    bool changed = false;
    int32_t begin = graphemes->first();
    for (int32_t end = graphemes->next(); end != icu::BreakIterator::DONE && end > begin; begin = end, end = graphemes->next()) {
      const std::string_view cluster(text.data() + begin, static_cast<size_t>(end - begin));
      if (cluster.size() < 6) {
        if (const auto rule = map_.shortest_prefix_rule(cluster)) {
          out.append(*rule);
          changed = true;
          continue;
        }
      }
      for (size_t pos = 0; pos < cluster.size();) {
        const size_t length = std::min(utf8_length(static_cast<unsigned char>(cluster[pos])), cluster.size() - pos);
        const std::string_view character = cluster.substr(pos, length);
        if (const auto rule = map_.shortest_prefix_rule(character)) {
          out.append(*rule);
          changed = true;
        } else {
          out.append(character);
        }
        pos += length;
      }
    }
    if (changed) text = std::move(out);
  }

 private:
  CharsMap map_;
  std::string path_;
  std::unique_ptr<icu::BreakIterator> graphemes_;
};

}  // namespace

std::string decode_base64(std::string_view text, const std::string& path) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t bits = 0;
  int count = 0;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      ++padding;
      continue;
    }
    const int digit = base64_digit(c);
    if (digit < 0 || padding > 0) fail("{}: invalid base64 at offset {}", path, i);
    bits = (bits << 6) | static_cast<uint32_t>(digit);
    if (++count == 4) {
      out.push_back(static_cast<char>((bits >> 16) & 0xFF));
      out.push_back(static_cast<char>((bits >> 8) & 0xFF));
      out.push_back(static_cast<char>(bits & 0xFF));
      bits = 0;
      count = 0;
    }
  }
  if (count == 1 || padding > 2) fail("{}: truncated base64 ({} characters)", path, text.size());
  if (count == 2) out.push_back(static_cast<char>((bits >> 4) & 0xFF));
  if (count == 3) {
    out.push_back(static_cast<char>((bits >> 10) & 0xFF));
    out.push_back(static_cast<char>((bits >> 2) & 0xFF));
  }
  return out;
}

CharsMap::CharsMap(std::string_view blob, const std::string& path) : path_(path) {
  if (blob.empty()) return;
  if (blob.size() < 4) fail("{}: charsmap of {} bytes is shorter than its 4-byte trie size", path, blob.size());
  const uint32_t trie_bytes = static_cast<uint32_t>(static_cast<uint8_t>(blob[0])) | static_cast<uint32_t>(static_cast<uint8_t>(blob[1])) << 8 |
                              static_cast<uint32_t>(static_cast<uint8_t>(blob[2])) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(blob[3])) << 24;
  if (trie_bytes == 0 || trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4)
    fail("{}: trie size {} does not fit the {}-byte charsmap (expected a positive multiple of 4)", path, trie_bytes, blob.size());
  units_.resize(trie_bytes / 4);
  for (size_t i = 0; i < units_.size(); ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(blob.data() + 4 + 4 * i);
    units_[i] = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  }
  pool_.assign(blob.substr(4 + trie_bytes));
}

std::optional<std::string_view> CharsMap::shortest_prefix_rule(std::string_view text) const {
  if (units_.empty()) return std::nullopt;
  const size_t size = units_.size();
  uint32_t position = unit_offset(units_[0]);
  for (char ch : text) {
    const auto byte = static_cast<uint8_t>(ch);
    if (byte == 0) break;  // keys are C strings
    position ^= byte;
    if (position >= size) return std::nullopt;
    const uint32_t unit = units_[position];
    if (unit_label(unit) != byte) return std::nullopt;
    position ^= unit_offset(unit);
    if (!unit_has_leaf(unit)) continue;
    if (position >= size) fail("{}: trie leaf at unit {} lies outside the trie of {} units", path_, position, size);
    const uint32_t offset = unit_value(units_[position]);
    if (offset >= pool_.size()) fail("{}: trie value {} points outside the {}-byte string pool", path_, offset, pool_.size());
    const char* start = pool_.data() + offset;
    const void* nul = std::memchr(start, 0, pool_.size() - offset);
    return std::string_view(start, nul ? static_cast<const char*>(nul) - start : pool_.size() - offset);
  }
  return std::nullopt;
}

std::unique_ptr<Normalizer> precompiled_normalizer(std::string_view base64_charsmap, const std::string& path) {
  return std::make_unique<Precompiled>(CharsMap(decode_base64(base64_charsmap, path), path), path);
}

}  // namespace slmtune::tokenizer
