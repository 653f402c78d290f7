// The byte-level BPE trainer: merges checked by hand on tiny corpora (most frequent pair first,
// ties to the smaller pair of ids, as HF's BpeTrainer), and the written tokenizer.json reloads.
#include <gtest/gtest.h>

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

TEST(BpeTrainer, RejectsTooSmallVocabulary) {
  tokenizer::BpeTrainerOptions options;
  options.vocab_size = 100;
  EXPECT_THROW(tokenizer::train_byte_level_bpe({"abc"}, options), slmtune::Error);
}

}  // namespace
}  // namespace slmtune::testing
