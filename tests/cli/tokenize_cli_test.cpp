// `slmtune tokenize` / `slmtune detokenize` end to end, against HF reference ids (ggml's gpt-2
// prompts and llama.cpp's Llama 2 vectors).
#include <gtest/gtest.h>

#include "support/test_support.hpp"

using slmtune::testing::shell_quote;

using slmtune::testing::expect_one_line_error;

using slmtune::testing::run_slmtune;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;

namespace {

TEST(TokenizeCli, IdsLineMatchesHfGpt2Reference) {
  // gpt-2.txt: "Hello World! => 15496,2159,0"
  const auto result = run_slmtune("tokenize " + shell_quote(testdata("tokenizers/microsoft-phi-2")) + " --text 'Hello World!' --ids");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "15496 2159 0\n");
}

TEST(TokenizeCli, GgufWithSpecialTokensAndFileInput) {
  TempDir dir;
  slmtune::testing::write_text(dir / "in.txt", " Hello world");
  // ggml-vocab-llama-spm.gguf.out for " Hello world": 29871 15043 3186; add_bos_token adds <s> = 1.
  const auto result = run_slmtune("tokenize " + shell_quote(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf")) + " --file " +
                                  shell_quote(dir / "in.txt") + " --add-special");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "1 29871 15043 3186\n");
}

TEST(TokenizeCli, TokensAndJson) {
  const std::string model = shell_quote(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  auto result = run_slmtune("tokenize " + model + " --text 'Hello World!' --tokens");
  EXPECT_EQ(result.out, "Hello\n\xC4\xA0World\n!\n");
  result = run_slmtune("tokenize " + model + " --text 'Hello World!' --json");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("\"ids\":[15496,2159,0]"), std::string::npos) << result.out;
}

TEST(TokenizeCli, DetokenizeRoundTripAndBadIds) {
  const std::string model = shell_quote(testdata("tokenizers/microsoft-phi-2"));
  auto result = run_slmtune("detokenize " + model + " 15496 2159 0");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Hello World!\n");
  result = run_slmtune("detokenize " + model + " '15496 2159 0'");
  EXPECT_EQ(result.out, "Hello World!\n");
  expect_one_line_error(run_slmtune("detokenize " + model + " 15496 999999"), "999999");
  expect_one_line_error(run_slmtune("detokenize " + model + " 12x"), "12x");
}

TEST(TokenizeCli, BadInputsAreOneLine) {
  TempDir dir;
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(dir / "missing") + " --text hi"), "missing");
  slmtune::testing::write_text(dir / "tokenizer.json", R"({"model": {"type": "WordLevel", "vocab": {}}})");
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(dir / "tokenizer.json") + " --text hi"), "model.type");
  slmtune::testing::write_text(dir / "tokenizer.json",
                               R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}})");
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(dir / "tokenizer.json") + " --text hi"), "merge 0");
  slmtune::testing::write_text(dir / "tokenizer.json",
                               R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}})");
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(dir / "tokenizer.json") + " --text hi"), "duplicate token id 0");
  slmtune::testing::write_text(dir / "tokenizer.json",
                               R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<x"}, "behavior": "Isolated"},
                                   "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(dir / "tokenizer.json") + " --text hi"), "PCRE2");
  slmtune::testing::write_text(dir / "tokenizer.json",
                               R"({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NoSuchNormalizer"}]},
                                   "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(dir / "tokenizer.json") + " --text hi"), "normalizer.normalizers[0]");
  expect_one_line_error(run_slmtune("tokenize " + shell_quote(testdata("tokenizers/microsoft-phi-2")) + " --text a --file b"), "exactly one");
}

}  // namespace

namespace {

TEST(TokenizerTrainCli, TrainsAndTheResultTokenizes) {
  TempDir dir;
  slmtune::testing::write_text(dir / "a.txt", "the theme of the thesis is the theory\nthe end\n");
  const auto result = run_slmtune("tokenizer train --vocab-size 270 --special '<|endoftext|>' --min-frequency 2 -o " +
                                  shell_quote(dir / "tokenizer.json") + " " + shell_quote(dir / "a.txt"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // By hand: t-h and h-e occur 7 times each, (h,e) is the smaller pair of ids, so "h e" (id 257 after
  // the special and the 256 bytes), then "t he" (258), "Ġ the" (5 times), "i s" (twice); every
  // other pair occurs once, below --min-frequency 2, so training stops at 261 tokens.
  EXPECT_NE(result.out.find("261 tokens, 4 merges"), std::string::npos) << result.out;
  const auto ids = run_slmtune("tokenize " + shell_quote(dir / "tokenizer.json") + " --text 'the' --ids");
  EXPECT_EQ(ids.exit_code, 0) << ids.err;
  EXPECT_EQ(ids.out, "258\n");
  const auto back = run_slmtune("detokenize " + shell_quote(dir / "tokenizer.json") + " 258");
  EXPECT_EQ(back.out, "the\n");
  expect_one_line_error(run_slmtune("tokenizer train --vocab-size 10 -o " + shell_quote(dir / "t.json") + " " + shell_quote(dir / "a.txt")),
                        "vocab-size");
  const auto bad_pattern = run_slmtune("tokenizer train --vocab-size 300 --pattern '(x' -o " + shell_quote(dir / "p.json") +
                                       " " + shell_quote(dir / "a.txt"));
  expect_one_line_error(bad_pattern, "tokenizer train: --pattern: regex \"(x\" rejected by PCRE2 at offset 2");
  EXPECT_FALSE(std::filesystem::exists(dir / "p.json"));
}

}  // namespace
