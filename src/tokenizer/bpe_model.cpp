#include "tokenizer/bpe_model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {

constexpr size_t kCacheCapacity = 1 << 18;   // entries; beyond this new pieces are not cached
constexpr size_t kKeptScratchSymbols = 1 << 16;  // per-thread merge buffers beyond this are freed
constexpr size_t kCacheablePieceBytes = 64;   // longer pieces rarely repeat (SentencePiece's whole texts)
// Ids index a dense table: far beyond any real vocabulary (the largest are ~260K), a stray id such as
// 2000000000 would allocate gigabytes before any other check could speak.
constexpr TokenId kMaxTokenId = (1 << 22) - 1;
constexpr std::string_view kWordMark = "\xE2\x96\x81";  // ▁

bool preceded_by_word_mark(std::string_view text, size_t pos) {
  return pos >= kWordMark.size() && text.compare(pos - kWordMark.size(), kWordMark.size(), kWordMark) == 0;
}

struct Symbol {
  TokenId id;
  int prev, next;
  bool alive;
};

struct Candidate {
  uint32_t rank;
  int position;
  TokenId merged;
  // std::priority_queue is a max-heap: "greater" means lower rank, then leftmost.
  bool operator<(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : position > other.position;
  }
};

}  // namespace

Vocabulary Vocabulary::from_pairs(const std::vector<std::pair<std::string, TokenId>>& pairs, const std::string& origin,
                                  bool allow_repeated_strings) {
  Vocabulary vocab;
  TokenId max_id = -1;
  for (const auto& [token, id] : pairs) {
    if (id < 0) fail("{}: token {:?} has negative id {}", origin, token, id);
    if (id > kMaxTokenId) fail("{}: token {:?} has id {}, beyond the largest id accepted ({})", origin, token, id, kMaxTokenId);
    max_id = std::max(max_id, id);
  }
  vocab.tokens.assign(static_cast<size_t>(max_id + 1), std::string());
  std::vector<bool> seen(vocab.tokens.size(), false);
  vocab.ids.reserve(pairs.size());
  for (const auto& [token, id] : pairs) {
    if (seen[id]) fail("{}: duplicate token id {} (for {:?} and {:?})", origin, id, vocab.tokens[id], token);
    seen[id] = true;
    vocab.tokens[id] = token;
    if (!vocab.ids.emplace(token, id).second && !allow_repeated_strings) fail("{}: token {:?} appears twice", origin, token);
  }
  return vocab;
}

void BpeModel::MergeTable::reserve(size_t count) {
  size_t capacity = 16;
  int bits = 4;
  while (capacity < count * 2) capacity <<= 1, ++bits;  // at most half full
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  shift_ = 64 - bits;
  size_ = 0;
}

void BpeModel::MergeTable::insert(uint64_t key, MergeTarget target) {
  if ((size_ + 1) * 2 > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<size_t>(16, (size_ + 1) * 2));
    for (const Slot& slot : old)
      if (slot.key != kEmpty) insert(slot.key, slot.target);
  }
  for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    if (slot.key == key) return;
    if (slot.key == kEmpty) {
      slot.key = key;
      slot.target = target;
      ++size_;
      return;
    }
  }
}

BpeModel::BpeModel(Vocabulary vocabulary, const std::vector<MergeRule>& merges, BpeOptions options, const std::string& origin)
    : vocabulary_(std::move(vocabulary)), options_(std::move(options)), cache_(kCacheCapacity, kCacheablePieceBytes) {
  const size_t prefix = options_.continuing_subword_prefix.size();
  merges_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const MergeRule& rule = merges[i];
    const auto left = vocabulary_.find(rule.left);
    const auto right = vocabulary_.find(rule.right);
    if (!left || !right)
      fail("{}: merge {} ({:?} {:?}) names token {:?}, which is not in the vocabulary", origin, i, rule.left, rule.right,
           left ? rule.right : rule.left);
    // With a continuing-subword prefix ("##"), the right part loses it when joined.
    const std::string_view right_text =
        prefix > 0 && rule.right.compare(0, prefix, options_.continuing_subword_prefix) == 0
            ? std::string_view(rule.right).substr(prefix)
            : std::string_view(rule.right);
    const std::string joined = rule.left + std::string(right_text);
    const auto merged = vocabulary_.find(joined);
    if (!merged) fail("{}: merge {} ({:?} {:?}) makes {:?}, which is not in the vocabulary", origin, i, rule.left, rule.right, joined);
    // The first rule for a pair wins, as in HF where a later duplicate never fires.
    merges_.insert(pair_key(*left, *right), MergeTarget{rule.rank, *merged});
  }
  if (options_.continuing_subword_prefix.empty() && options_.end_of_word_suffix.empty()) {
    character_ids_.assign(0x10000, -1);
    for (size_t id = 0; id < vocabulary_.tokens.size(); ++id) {
      const std::string& token = vocabulary_.tokens[id];
      if (token.empty() || utf8_length(static_cast<unsigned char>(token[0])) != token.size() || !is_valid_utf8(token)) continue;
      size_t pos = 0;
      const char32_t cp = next_code_point(token, pos);
      // The vocabulary's own id for the string wins (GGUF files may repeat a string).
      if (cp < character_ids_.size() && vocabulary_.find(token) == static_cast<TokenId>(id)) character_ids_[cp] = static_cast<TokenId>(id);
    }
  }
  if (options_.unk_token) {
    unk_id_ = vocabulary_.find(*options_.unk_token);
    if (!unk_id_) fail("{}: unk_token {:?} is not in the vocabulary", origin, *options_.unk_token);
  }
  cut_before_word_marks_ = options_.byte_fallback;
  for (const std::string& token : vocabulary_.tokens) {
    for (size_t pos = token.find(kWordMark, 1); pos != std::string::npos; pos = token.find(kWordMark, pos + 1))
      if (!preceded_by_word_mark(token, pos)) cut_before_word_marks_ = false;
  }
  byte_ids_.fill(-1);
  all_bytes_present_ = true;
  for (int b = 0; b < 256; ++b) {
    const auto id = vocabulary_.find(fmt::format("<0x{:02X}>", b));
    if (id) byte_ids_[b] = *id;
    else all_bytes_present_ = false;
  }
}

std::vector<std::pair<std::string, std::string>> BpeModel::merges_in_rank_order() const {
  std::vector<std::pair<uint32_t, uint64_t>> ranked;
  ranked.reserve(merges_.size());
  merges_.for_each([&](uint64_t key, const MergeTarget& target) { ranked.emplace_back(target.rank, key); });
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(ranked.size());
  for (const auto& [rank, key] : ranked)
    out.emplace_back(vocabulary_.tokens[key >> 32], vocabulary_.tokens[key & 0xFFFFFFFFu]);
  return out;
}

void BpeModel::encode(std::string_view piece, std::vector<TokenId>& out) const {
  if (!cut_before_word_marks_ || piece.size() <= kCacheablePieceBytes) {
    encode_word(piece, out);
    return;
  }
  // Cut before each "▁" that follows a character other than "▁".
  size_t begin = 0;
  for (size_t pos = piece.find(kWordMark, 1); pos != std::string_view::npos; pos = piece.find(kWordMark, pos + kWordMark.size())) {
    if (preceded_by_word_mark(piece, pos)) continue;
    encode_word(piece.substr(begin, pos - begin), out);
    begin = pos;
  }
  encode_word(piece.substr(begin), out);
}

std::optional<TokenId> BpeModel::character_id(std::string_view character) const {
  if (!character_ids_.empty()) {
    const auto* b = reinterpret_cast<const unsigned char*>(character.data());
    char32_t cp = 0x110000;
    if (character.size() == 1) cp = b[0];
    else if (character.size() == 2 && (b[1] & 0xC0) == 0x80) cp = (char32_t(b[0] & 0x1F) << 6) | (b[1] & 0x3F);
    else if (character.size() == 3 && (b[1] & 0xC0) == 0x80 && (b[2] & 0xC0) == 0x80)
      cp = (char32_t(b[0] & 0x0F) << 12) | (char32_t(b[1] & 0x3F) << 6) | (b[2] & 0x3F);
    if (cp < character_ids_.size()) {
      const TokenId id = character_ids_[cp];
      if (id < 0) return std::nullopt;
      return id;
    }
  }
  return vocabulary_.find(character);
}

void BpeModel::encode_word(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  // One character: nothing to merge, nothing worth caching.
  if (!character_ids_.empty() && utf8_length(static_cast<unsigned char>(piece[0])) == piece.size()) {
    if (const auto id = character_id(piece)) {
      out.push_back(*id);
      return;
    }
  }
  if (options_.ignore_merges) {
    if (const auto id = vocabulary_.find(piece)) {
      out.push_back(*id);
      return;
    }
  }
  if (piece.size() > kCacheablePieceBytes) {
    encode_uncached(piece, out);
    return;
  }
  {
    std::lock_guard lock(cache_mutex_);
    if (cache_.lookup(piece, out)) return;
  }
  const size_t first = out.size();
  encode_uncached(piece, out);
  std::lock_guard lock(cache_mutex_);
  cache_.insert(piece, std::span<const TokenId>(out).subspan(first));
}

void BpeModel::encode_uncached(std::string_view piece, std::vector<TokenId>& out) const {
  // Reused per thread: every cache miss comes here, and fresh vectors cost more than the merging.
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> queue;  // a heap ordered as std::priority_queue would
  symbols.clear();
  queue.clear();
  const auto add = [&](TokenId id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) symbols[index - 1].next = index;
  };

  // Initial symbols: one per character, unknown characters as bytes or (fused) unknown tokens.
  TokenId pending_unk = -1;  // an unknown token not yet added (kept open for fuse_unk)
  std::string scratch;
  for (size_t pos = 0; pos < piece.size();) {
    const size_t begin = pos;
    pos += std::min(utf8_length(static_cast<unsigned char>(piece[pos])), piece.size() - pos);
    std::string_view character = piece.substr(begin, pos - begin);
    std::string_view lookup = character;
    if ((begin > 0 && !options_.continuing_subword_prefix.empty()) || (pos == piece.size() && !options_.end_of_word_suffix.empty())) {
      scratch.clear();
      if (begin > 0) scratch += options_.continuing_subword_prefix;
      scratch += character;
      if (pos == piece.size()) scratch += options_.end_of_word_suffix;
      lookup = scratch;
    }
    if (const auto id = lookup.data() == character.data() ? character_id(lookup) : vocabulary_.find(lookup)) {
      if (pending_unk >= 0) add(pending_unk), pending_unk = -1;
      add(*id);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (char c : character) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        if (pending_unk >= 0) add(pending_unk), pending_unk = -1;
        for (char c : character) add(byte_ids_[static_cast<uint8_t>(c)]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk >= 0 && !options_.fuse_unk) add(pending_unk);
      pending_unk = *unk_id_;
    }
    // Without an unknown token the character is dropped, as HF does.
  }
  if (pending_unk >= 0) add(pending_unk);

  const auto consider = [&](int left) {
    const int right = symbols[left].next;
    if (right < 0) return;
    if (const MergeTarget* target = merges_.find(pair_key(symbols[left].id, symbols[right].id))) {
      queue.push_back({target->rank, left, target->merged});
      std::push_heap(queue.begin(), queue.end());
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end());
    const Candidate top = queue.back();
    queue.pop_back();
    Symbol& left = symbols[top.position];
    if (!left.alive || left.next < 0) continue;
    // Stale entry: one side has merged with something else since it was queued.
    const MergeTarget* target = merges_.find(pair_key(left.id, symbols[left.next].id));
    if (target == nullptr || target->merged != top.merged) continue;
    Symbol& right = symbols[left.next];
    right.alive = false;
    left.id = top.merged;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.position;
    if (left.prev >= 0) consider(left.prev);
    consider(top.position);
  }
  for (const Symbol& symbol : symbols)
    if (symbol.alive) out.push_back(symbol.id);
  // A whole-text piece (SentencePiece without cuts) must not pin megabytes to the thread.
  if (symbols.capacity() > kKeptScratchSymbols) {
    symbols = {};
    queue = {};
  }
}

}  // namespace slmtune::tokenizer
