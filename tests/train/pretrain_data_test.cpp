#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "train/pretrain_data.hpp"

using namespace slmtune::train;

namespace {

// Documents of the given lengths with ids that are unique across the corpus (doc k: 100k, 100k+1, …).
std::vector<std::vector<int32_t>> documents_of(const std::vector<size_t>& lengths) {
  std::vector<std::vector<int32_t>> documents;
  for (size_t k = 0; k < lengths.size(); ++k) {
    documents.emplace_back(lengths[k]);
    std::iota(documents.back().begin(), documents.back().end(), static_cast<int32_t>(100 * k));
  }
  return documents;
}

std::vector<int32_t> range(int32_t first, int32_t count) {
  std::vector<int32_t> out(static_cast<size_t>(count));
  std::iota(out.begin(), out.end(), first);
  return out;
}

}  // namespace

TEST(SplitDocuments, SplitsOnlyAtLinesHoldingTheSeparator) {
  const std::string text =
      "Mayday relay\nline two\n<|endoftext|>\n\n  second doc\n\n  <|endoftext|>  \r\n<|endoftext|>\n"
      "inline <|endoftext|> stays text\n";
  const auto documents = split_documents(text, "<|endoftext|>");
  ASSERT_EQ(documents.size(), 3u);
  EXPECT_EQ(documents[0], "Mayday relay\nline two");
  EXPECT_EQ(documents[1], "  second doc");  // inner indentation kept; blank lines around dropped
  EXPECT_EQ(documents[2], "inline <|endoftext|> stays text");
  EXPECT_TRUE(split_documents("\n\n<|endoftext|>\n", "<|endoftext|>").empty());
  EXPECT_EQ(split_documents("no separator at all", "<|endoftext|>"), std::vector<std::string>{"no separator at all"});
  EXPECT_THROW(split_documents("x", ""), slmtune::Error);
}

TEST(PackDocuments, WholeDocumentsFillRowsGreedilyAndOnlyLongOnesAreCut) {
  // seq_len 5, documents of 3, 4, 2, 7, 1 tokens:
  //   [d0]            3+4 > 5 closes the row
  //   [d1]            4+2 > 5
  //   [d2]            d3 (7 > 5) starts a fresh row
  //   [d3 0..4]       a full piece
  //   [d3 5..6, d4]   the remainder is shared with the next document
  const auto packed = pack_documents(documents_of({3, 4, 2, 7, 1}), 5);
  ASSERT_EQ(packed.rows.size(), 5u);
  EXPECT_EQ(packed.rows[0].ids, range(0, 3));
  EXPECT_EQ(packed.rows[1].ids, range(100, 4));
  EXPECT_EQ(packed.rows[2].ids, range(200, 2));
  EXPECT_EQ(packed.rows[3].ids, range(300, 5));
  EXPECT_EQ(packed.rows[4].ids, (std::vector<int32_t>{305, 306, 400}));
  EXPECT_EQ(packed.documents, 5);
  EXPECT_EQ(packed.tokens, 17);
  EXPECT_EQ(packed.cut_documents, 1);
  for (const auto& row : packed.rows) EXPECT_EQ(row.labels, row.ids);  // train_on all
}

TEST(PackDocuments, EveryTokenLandsOnceInOrderAndRowsRespectTheLimit) {
  std::vector<size_t> lengths;
  for (size_t k = 0; k < 60; ++k) lengths.push_back(1 + (k * 37) % 23);  // 1..23 tokens, some longer than a row
  const auto documents = documents_of(lengths);
  const auto packed = pack_documents(documents, 16);
  std::vector<int32_t> all, rows;
  for (const auto& d : documents) all.insert(all.end(), d.begin(), d.end());
  for (const auto& row : packed.rows) {
    EXPECT_LE(row.ids.size(), 16u);
    EXPECT_FALSE(row.ids.empty());
    rows.insert(rows.end(), row.ids.begin(), row.ids.end());
  }
  EXPECT_EQ(rows, all);
  EXPECT_EQ(packed.tokens, static_cast<int64_t>(all.size()));
  // A document that fits in a row is never split: its first and last token share a row.
  for (size_t k = 0; k < documents.size(); ++k) {
    if (documents[k].size() > 16) continue;
    const auto holds = [&](const Sample& row, int32_t id) { return std::count(row.ids.begin(), row.ids.end(), id) == 1; };
    const bool together = std::any_of(packed.rows.begin(), packed.rows.end(), [&](const Sample& row) {
      return holds(row, documents[k].front()) && holds(row, documents[k].back());
    });
    EXPECT_TRUE(together) << "document " << k;
  }
}

TEST(PackDocuments, SkipsEmptyDocumentsAndRefusesTinyRows) {
  const auto packed = pack_documents({{}, {7, 8}, {}}, 4);
  ASSERT_EQ(packed.rows.size(), 1u);
  EXPECT_EQ(packed.documents, 1);
  EXPECT_TRUE(pack_documents({}, 4).rows.empty());
  EXPECT_THROW(pack_documents({{1, 2}}, 1), slmtune::Error);
}

TEST(HoldOutRows, MovesTheRequestedShareReproducibly) {
  auto make = [] {
    std::vector<Sample> rows;
    for (int32_t i = 0; i < 50; ++i) rows.push_back(Sample{{i}, {i}});
    return rows;
  };
  std::vector<Sample> train = make(), validation;
  hold_out_rows(train, validation, 0.1, 7);
  EXPECT_EQ(validation.size(), 5u);
  EXPECT_EQ(train.size(), 45u);
  std::set<int32_t> seen;
  for (const auto& s : train) seen.insert(s.ids[0]);
  for (const auto& s : validation) seen.insert(s.ids[0]);
  EXPECT_EQ(seen.size(), 50u);  // nothing lost or duplicated

  std::vector<Sample> train2 = make(), validation2;
  hold_out_rows(train2, validation2, 0.1, 7);
  for (size_t i = 0; i < validation.size(); ++i) EXPECT_EQ(validation[i].ids, validation2[i].ids);

  std::vector<Sample> one{Sample{{1}, {1}}}, none;
  hold_out_rows(one, none, 0.5, 1);
  EXPECT_EQ(one.size(), 1u);  // the last row stays for training
  EXPECT_THROW(hold_out_rows(train, validation, 1.0, 1), slmtune::Error);
  EXPECT_THROW(hold_out_rows(train, validation, -0.1, 1), slmtune::Error);
}
