// The BPE model's piece cache: what goes in comes out, growth keeps entries, and it is bounded.
#include <gtest/gtest.h>

#include <string>

#include "tokenizer/piece_cache.hpp"

namespace slmtune::testing {
namespace {

using Ids = std::vector<tokenizer::TokenId>;

TEST(PieceCache, StoresPiecesAcrossGrowth) {
  tokenizer::PieceCache cache(100000, 64);
  for (int i = 0; i < 5000; ++i) cache.insert("piece" + std::to_string(i), Ids{i, i + 1});
  EXPECT_EQ(cache.size(), 5000u);
  for (int i = 0; i < 5000; i += 7) {
    Ids out{-1};
    ASSERT_TRUE(cache.lookup("piece" + std::to_string(i), out)) << i;
    EXPECT_EQ(out, (Ids{-1, i, i + 1}));  // appended after what was there
  }
  Ids out;
  EXPECT_FALSE(cache.lookup("piece5000", out));
  EXPECT_FALSE(cache.lookup("piece", out));
  EXPECT_TRUE(out.empty());
  // Inserting a cached piece again keeps the first ids.
  cache.insert("piece1", Ids{9});
  ASSERT_TRUE(cache.lookup("piece1", out));
  EXPECT_EQ(out, (Ids{1, 2}));
}

TEST(PieceCache, BoundedByEntriesAndPieceLength) {
  tokenizer::PieceCache cache(3, 8);
  cache.insert("a", Ids{1});
  cache.insert("b", Ids{2});
  cache.insert("c", Ids{3});
  cache.insert("d", Ids{4});                 // over the entry limit: dropped
  cache.insert("123456789", Ids{5});         // longer than 8 bytes: never cached
  Ids out;
  EXPECT_TRUE(cache.lookup("c", out));
  EXPECT_FALSE(cache.lookup("d", out));
  EXPECT_FALSE(cache.lookup("123456789", out));
  EXPECT_EQ(out, (Ids{3}));
  EXPECT_EQ(cache.size(), 3u);
}

}  // namespace
}  // namespace slmtune::testing
