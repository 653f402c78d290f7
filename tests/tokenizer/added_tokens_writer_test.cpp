// Tokens added at run time survive a save/load of the tokenizer files: ids follow the vocabulary,
// the reloaded tokenizer cuts them out of text like any special token, and the files hold them
// where Hugging Face looks (tokenizer.json added_tokens, tokenizer_config.json added_tokens_decoder).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"
#include "tokenizer/added_tokens_writer.hpp"
#include "tokenizer/pad_token.hpp"
#include "tokenizer/tokenizer.hpp"

namespace slmtune::testing {
namespace {

using tokenizer::TokenId;
using tokenizer::Tokenizer;

std::filesystem::path copy_tokenizer(const TempDir& dir) {
  const auto source = testdata("tokenizers/microsoft-phi-2");
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(source / file, dir / file);
  return dir.path();
}

TEST(AddedTokensWriter, FunctionalTokensGetNextIdsAndSurviveReload) {
  TempDir dir;
  copy_tokenizer(dir);
  Tokenizer tok = Tokenizer::load(dir.path());
  const size_t vocab = tok.vocab_size();
  const std::string text = "call <fn_categorize_emergency>{\"x\": 1}";
  const auto before = tok.encode(text, false, true);
  const TokenId a = tok.add_token("<fn_categorize_emergency>", true);
  const TokenId b = tok.add_token("<fn_broadcast_emergency_message>", true);
  EXPECT_EQ(static_cast<size_t>(a), vocab);
  EXPECT_EQ(static_cast<size_t>(b), vocab + 1);
  EXPECT_EQ(tok.vocab_size(), vocab + 2);

  std::vector<tokenizer::AddedToken> added;
  for (const auto& t : tok.added_tokens())
    if (static_cast<size_t>(t.id) >= vocab) added.push_back(t);
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(tokenizer::write_added_tokens(dir.path(), added), 2u);
  EXPECT_EQ(tokenizer::write_added_tokens(dir.path(), added), 0u) << "written twice";

  // The files themselves, read as JSON (what transformers reads).
  const Json tj = read_json_file(dir / "tokenizer.json");
  const auto count = std::count_if(tj["added_tokens"].begin(), tj["added_tokens"].end(),
                                   [&](const Json& e) { return e["content"] == "<fn_categorize_emergency>"; });
  EXPECT_EQ(count, 1);
  const Json cj = read_json_file(dir / "tokenizer_config.json");
  ASSERT_TRUE(cj["added_tokens_decoder"].contains(std::to_string(a)));
  EXPECT_EQ(cj["added_tokens_decoder"][std::to_string(a)]["content"], "<fn_categorize_emergency>");
  EXPECT_EQ(cj["added_tokens_decoder"][std::to_string(a)]["special"], true);

  const Tokenizer reloaded = Tokenizer::load(dir.path());
  EXPECT_EQ(reloaded.vocab_size(), vocab + 2);
  EXPECT_EQ(reloaded.token_to_id("<fn_categorize_emergency>"), a);
  EXPECT_TRUE(reloaded.is_special(b));
  const auto ids = reloaded.encode(text, false, true);
  EXPECT_NE(std::find(ids.begin(), ids.end(), a), ids.end());
  EXPECT_LT(ids.size(), before.size()) << "the function name is one token now";
  EXPECT_EQ(reloaded.decode(ids), text);
  // Without parse_special the text stays text (as for every special token).
  const auto plain = reloaded.encode(text, false, false);
  EXPECT_EQ(std::find(plain.begin(), plain.end(), a), plain.end());
}

TEST(AddedTokensWriter, PadTokenIsConfigured) {
  TempDir dir;
  copy_tokenizer(dir);
  Tokenizer tok = Tokenizer::load(dir.path());
  const TokenId pad = tok.add_token("<|pad|>", true);
  tokenizer::write_added_tokens(dir.path(), {tok.added_tokens().back()}, std::string("<|pad|>"));
  const Tokenizer reloaded = Tokenizer::load(dir.path());
  ASSERT_TRUE(reloaded.config().pad_token.has_value());
  EXPECT_EQ(*reloaded.config().pad_token, "<|pad|>");
  EXPECT_EQ(reloaded.token_to_id("<|pad|>"), pad);
}

// pad_token: add on a vocabulary without <|pad|>: a new id after the vocabulary, and the memory cost
// of one row in each of the embedding and the (untied) output matrix.
TEST(AddedTokensWriter, PadAddGrowsByOneRowAndCountsItsBytes) {
  TempDir dir;
  copy_tokenizer(dir);
  Tokenizer tok = Tokenizer::load(dir.path());
  tok.mutable_config().pad_token.reset();
  const size_t vocab = tok.vocab_size();
  const auto choice = tokenizer::resolve_pad_token(tok, tokenizer::PadFallback::add_new, 2560, 2, false);
  EXPECT_EQ(static_cast<size_t>(choice.id), vocab);
  EXPECT_EQ(choice.rows_added, 1u);
  EXPECT_EQ(choice.bytes_added, 2560u * 2u * 2u);
  // Asked again (the token now exists and is configured): nothing more is added.
  EXPECT_EQ(tokenizer::resolve_pad_token(tok, tokenizer::PadFallback::add_new, 2560, 2, false).rows_added, 0u);
  EXPECT_EQ(tok.vocab_size(), vocab + 1);
}

TEST(AddedTokensWriter, BadFileIsOneLine) {
  TempDir dir;
  write_text(dir / "tokenizer.json", "[1, 2");
  EXPECT_THROW(tokenizer::write_added_tokens(dir.path(), {}), Error);
}

}  // namespace
}  // namespace slmtune::testing
