#include "tokenizer/unigram_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.hpp"
#include "tokenizer/json_access.hpp"
#include "tokenizer/utf8.hpp"

namespace slmtune::tokenizer {

namespace {
// SentencePiece scores an unknown character this far below the least likely piece.
constexpr double kUnknownPenalty = 10.0;
}  // namespace

UnigramModel::UnigramModel(Vocabulary vocabulary, std::vector<double> scores, std::optional<TokenId> unk_id, bool byte_fallback)
    : vocabulary_(std::move(vocabulary)), scores_(std::move(scores)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  double min_score = 0;
  for (double score : scores_) min_score = std::min(min_score, score);
  unk_score_ = min_score - kUnknownPenalty;
  for (const auto& token : vocabulary_.tokens) max_token_bytes_ = std::max(max_token_bytes_, token.size());
}

void UnigramModel::encode(std::string_view piece, std::vector<TokenId>& out) const {
  if (piece.empty()) return;
  struct Best {
    double score = -std::numeric_limits<double>::infinity();
    size_t start = 0;
    TokenId id = -1;  // -1: the unknown token over [start, here)
    bool reached = false;
  };
  std::vector<Best> best(piece.size() + 1);
  best[0].score = 0;
  best[0].reached = true;
  for (size_t start = 0; start < piece.size();) {
    const size_t char_end = start + std::min(utf8_length(static_cast<unsigned char>(piece[start])), piece.size() - start);
    if (best[start].reached) {
      bool single_char_token = false;
      // Candidate pieces end on character boundaries within the longest token's length.
      for (size_t end = char_end; end <= piece.size() && end - start <= max_token_bytes_;) {
        if (const auto id = vocabulary_.find(piece.substr(start, end - start))) {
          const double score = best[start].score + scores_[*id];
          if (!best[end].reached || score > best[end].score) best[end] = {score, start, *id, true};
          if (end == char_end) single_char_token = true;
        }
        if (end == piece.size()) break;
        end += std::min(utf8_length(static_cast<unsigned char>(piece[end])), piece.size() - end);
      }
      if (!single_char_token) {
        const double score = best[start].score + unk_score_;
        if (!best[char_end].reached || score > best[char_end].score) best[char_end] = {score, start, -1, true};
      }
    }
    start = char_end;
  }
  // Walk back from the end, then emit in order; runs of unknown characters become one token.
  std::vector<std::pair<size_t, TokenId>> path;  // (start, id)
  for (size_t end = piece.size(); end > 0; end = best[end].start) path.emplace_back(best[end].start, best[end].id);
  std::reverse(path.begin(), path.end());
  bool previous_unknown = false;
  for (size_t i = 0; i < path.size(); ++i) {
    const auto [start, id] = path[i];
    if (id >= 0) {
      out.push_back(id);
      previous_unknown = false;
      continue;
    }
    const size_t end = i + 1 < path.size() ? path[i + 1].first : piece.size();
    if (byte_fallback_) {
      bool all = true;
      std::vector<TokenId> bytes;
      for (size_t b = start; b < end; ++b) {
        const auto byte_id = vocabulary_.find(fmt::format("<0x{:02X}>", static_cast<uint8_t>(piece[b])));
        if (!byte_id) all = false;
        else bytes.push_back(*byte_id);
      }
      if (all) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        previous_unknown = false;
        continue;
      }
    }
    if (!unk_id_) fail("unigram model: text contains a character outside the vocabulary and the model has no unk_id");
    if (!previous_unknown) out.push_back(*unk_id_);
    previous_unknown = true;
  }
}

std::unique_ptr<Model> unigram_from_json(const JsonValue& spec, const std::string& path) {
  const JsonValue& vocab = json_array(spec, "vocab", path);
  std::vector<std::pair<std::string, TokenId>> pairs;
  std::vector<double> scores;
  pairs.reserve(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    const JsonValue& entry = vocab[i];
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number())
      fail("{}.vocab[{}]: expected [piece, score]", path, i);
    pairs.emplace_back(entry[0].get<std::string>(), static_cast<TokenId>(i));
    scores.push_back(entry[1].get<double>());
  }
  Vocabulary vocabulary = Vocabulary::from_pairs(pairs, path + ".vocab");
  std::optional<TokenId> unk;
  if (spec.contains("unk_id") && !spec["unk_id"].is_null()) {
    const int64_t id = json_int(spec, "unk_id", path);
    if (id < 0 || static_cast<size_t>(id) >= vocab.size()) fail("{}.unk_id: {} is outside the vocabulary", path, id);
    unk = static_cast<TokenId>(id);
  }
  return std::make_unique<UnigramModel>(std::move(vocabulary), std::move(scores), unk, json_bool(spec, "byte_fallback", path, false));
}

}  // namespace slmtune::tokenizer
