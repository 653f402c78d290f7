// The byte-level BPE trainer: merges checked by hand on tiny corpora (most frequent pair first,
// ties to the smaller pair of ids, as HF's BpeTrainer), and the written tokenizer.json reloads.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/bpe_trainer.hpp"
#include "tokenizer/loaders.hpp"

namespace slmtune::testing {
namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;
const std::string G = "\xC4\xA0";  // Ġ, the byte-level space

TEST(BpeTrainer, MergesMostFrequentPairsFirst) {
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 256 + 1 + 2;
  options.special_tokens = {"<|endoftext|>"};
  options.min_frequency = 1;
  // Words: "ab" once, " ab" twice → pairs (a,b)×3, (Ġ,a)×2: first "a b", then (Ġ, ab)×2.
  const auto trained = tokenizer::train_byte_level_bpe({"ab ab ab"}, options);
  EXPECT_EQ(trained.merges, (Merges{{"a", "b"}, {G, "ab"}}));
  ASSERT_EQ(trained.tokens.size(), 259u);
  EXPECT_EQ(trained.tokens[0], "<|endoftext|>");
  EXPECT_EQ(trained.tokens[257], "ab");
  EXPECT_EQ(trained.tokens[258], G + "ab");
}

TEST(BpeTrainer, TiesGoToTheSmallerPairAndMinFrequencyStops) {
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 300;
  options.min_frequency = 2;
  // "xy" and "cd" each twice: equal counts, and ('c','d') has smaller byte ids than ('x','y').
  const auto trained = tokenizer::train_byte_level_bpe({"xy", "cd", "xy", "cd", "qz"}, options);
  EXPECT_EQ(trained.merges, (Merges{{"c", "d"}, {"x", "y"}}));  // "qz" occurs once: never merged
}

TEST(BpeTrainer, WrittenTokenizerJsonReloadsAndRoundTrips) {
  std::ifstream in(testdata("SOURCES.md"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string corpus = buffer.str();
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 600;
  options.special_tokens = {"<|endoftext|>", "<|pad|>"};
  const auto trained = tokenizer::train_byte_level_bpe({corpus}, options);
  EXPECT_EQ(trained.tokens.size(), 600u);
  TempDir dir;
  write_text(dir / "tokenizer.json", trained.to_tokenizer_json().dump());
  const auto tok = tokenizer::Tokenizer::load(dir / "tokenizer.json");
  EXPECT_EQ(tok.vocab_size(), 600u);
  const auto ids = tok.encode(corpus);
  EXPECT_LT(ids.size(), corpus.size() * 6 / 10);  // 342 merges compress the text they were learnt on
  EXPECT_EQ(tok.decode(ids), corpus);
  EXPECT_EQ(tok.encode("a<|pad|>", false, true).back(), 1);
  EXPECT_TRUE(tok.is_special(1));
}

TEST(BpeTrainer, SplitDigitsKeepsEveryDigitItsOwnToken) {
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 400;
  options.min_frequency = 1;
  options.split_digits = true;
  const std::string positions = "41.6259S, 12.5405W and 41.6259S, 12.5405W; N 54 19.2 W 4 24.7 at 1200 UTC";
  const auto trained = tokenizer::train_byte_level_bpe({positions, positions}, options);
  // Without the split, "41", "6259" and " 12" are frequent enough to be merged.
  for (const auto& [left, right] : trained.merges) {
    const std::string merged = left + right;
    EXPECT_EQ(merged.find_first_of("0123456789"), std::string::npos) << "merged a digit: " << merged;
  }
  // The written pre-tokenizer is the one SmolLM's tokenizer.json names (HF tokenizers' Sequence of
  // Digits(individual_digits=True) and ByteLevel(add_prefix_space=False)).
  const auto json = trained.to_tokenizer_json();
  EXPECT_EQ(json["pre_tokenizer"]["type"], "Sequence");
  EXPECT_EQ(json["pre_tokenizer"]["pretokenizers"][0]["type"], "Digits");
  EXPECT_EQ(json["pre_tokenizer"]["pretokenizers"][0]["individual_digits"], true);
  EXPECT_EQ(json["pre_tokenizer"]["pretokenizers"][1]["type"], "ByteLevel");
  TempDir dir;
  write_text(dir / "tokenizer.json", json.dump());
  const auto tok = tokenizer::Tokenizer::load(dir / "tokenizer.json");
  const auto ids = tok.encode(" at 2026 UTC");
  std::vector<std::string> pieces;
  for (const auto id : ids) pieces.push_back(tok.decode(std::span<const tokenizer::TokenId>(&id, 1)));
  EXPECT_EQ(pieces, (std::vector<std::string>{" at", " ", "2", "0", "2", "6", " UTC"}));
  EXPECT_EQ(tok.decode(tok.encode(positions)), positions);
  // The default keeps GPT-2's number runs.
  options.split_digits = false;
  const auto runs = tokenizer::train_byte_level_bpe({positions, positions}, options);
  EXPECT_TRUE(std::any_of(runs.merges.begin(), runs.merges.end(),
                          [](const auto& merge) { return merge.first == "4" && merge.second == "1"; }));
}

bool merges_digit_and_letter(const tokenizer::TrainedBpe& trained) {
  return std::any_of(trained.merges.begin(), trained.merges.end(), [](const auto& merge) {
    const std::string merged = merge.first + merge.second;
    return merged.find_first_of("0123456789") != std::string::npos && merged.find_first_of("NSEW") != std::string::npos;
  });
}

TEST(BpeTrainer, PatternChoosesTheWordsAndIsWrittenAsHfSplit) {
  // GPT-2's pattern with a hemisphere letter kept with the number before it.
  const std::string pattern =
      R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+(?:'?[NSEW](?!\p{L}))?| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  const std::string positions = "41.6259S, 12.5405W and 41.6259S, 12.5405W; 57°18.4'S 10°35.3'W and 57°18.4'S at Sea";
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 400;
  options.min_frequency = 1;
  // GPT-2's pattern never lets a digit and a letter share a word, so no merge joins them.
  EXPECT_FALSE(merges_digit_and_letter(tokenizer::train_byte_level_bpe({positions, positions}, options)));
  options.pattern = pattern;
  const auto trained = tokenizer::train_byte_level_bpe({positions, positions}, options);
  EXPECT_TRUE(merges_digit_and_letter(trained));

  // Written as Llama-3's and Qwen2's tokenizer.json are: Split(Regex, Isolated), then a ByteLevel
  // that maps bytes without splitting again.
  const auto json = trained.to_tokenizer_json();
  const auto& steps = json["pre_tokenizer"]["pretokenizers"];
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0]["type"], "Split");
  EXPECT_EQ(steps[0]["pattern"]["Regex"], pattern);
  EXPECT_EQ(steps[0]["behavior"], "Isolated");
  EXPECT_EQ(steps[1]["type"], "ByteLevel");
  EXPECT_EQ(steps[1]["use_regex"], false);
  TempDir dir;
  write_text(dir / "tokenizer.json", json.dump());
  const auto tok = tokenizer::Tokenizer::load(dir / "tokenizer.json");
  EXPECT_EQ(tok.decode(tok.encode(positions)), positions);
  std::vector<std::string> pieces;
  for (const auto id : tok.encode("41.6259S, 12.5405W"))
    pieces.push_back(tok.decode(std::span<const tokenizer::TokenId>(&id, 1)));
  EXPECT_EQ(pieces.back(), "5405W") << "the letter ends the number's token";
  EXPECT_NE(std::find(pieces.begin(), pieces.end(), "6259S"), pieces.end());
  // A letter that starts a word stays with the word ("5405West": "5405" and "West").
  for (const auto id : tok.encode("12.5405West")) {
    const std::string piece = tok.decode(std::span<const tokenizer::TokenId>(&id, 1));
    EXPECT_FALSE(piece.find_first_of("0123456789") != std::string::npos && piece.find('W') != std::string::npos) << piece;
  }

  options.pattern = "(unclosed";
  try {
    tokenizer::train_byte_level_bpe({positions}, options);
    ADD_FAILURE() << "an invalid pattern was accepted";
  } catch (const slmtune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--pattern"), std::string::npos) << e.what();
  }
}

TEST(BpeTrainer, RejectsTooSmallVocabulary) {
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 100;
  EXPECT_THROW(tokenizer::train_byte_level_bpe({"abc"}, options), slmtune::Error);
}

}  // namespace
}  // namespace slmtune::testing
