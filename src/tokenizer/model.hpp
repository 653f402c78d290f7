#pragma once
// A tokenization model turns one pre-tokenized piece into ids. The vocabulary it owns maps token
// strings (as the model spells them, e.g. "Ġthe" or "▁the") to ids and back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace slmtune::tokenizer {

using TokenId = int32_t;

// Transparent hashing so lookups by string_view need no temporary std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

struct Vocabulary {
  std::vector<std::string> tokens;  // index = id; unused ids hold ""
  TokenMap ids;

  // Fails naming `origin` on a duplicate or negative id, and on a token string listed twice unless
  // `allow_repeated_strings` (GGUF vocabularies repeat placeholder strings; the first id wins).
  static Vocabulary from_pairs(const std::vector<std::pair<std::string, TokenId>>& pairs, const std::string& origin,
                               bool allow_repeated_strings = false);
  std::optional<TokenId> find(std::string_view token) const {
    const auto it = ids.find(token);
    if (it == ids.end()) return std::nullopt;
    return it->second;
  }
};

class Model {
 public:
  virtual ~Model() = default;
  virtual void encode(std::string_view piece, std::vector<TokenId>& out) const = 0;
  virtual const Vocabulary& vocabulary() const = 0;
  // "BPE", "Unigram"… for messages and for writing the tokenizer back out.
  virtual std::string_view type() const = 0;
};

}  // namespace slmtune::tokenizer
