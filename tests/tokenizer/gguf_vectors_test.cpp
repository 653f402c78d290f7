// GGUF-embedded vocabularies against llama.cpp's test vectors (ids from the HF tokenizers) and
// ggml's HF prompt files.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"
#include "vector_check.hpp"

namespace slmtune::testing {
namespace {

class GgufVocab : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufVocab, MatchesLlamaCppVectors) {
  const std::string name = GetParam();
  const auto gguf = testdata("llama.cpp-vocab/ggml-vocab-" + name + ".gguf");
  const tokenizer::Tokenizer tok = tokenizer::load_gguf_tokenizer(gguf);
  expect_vectors(tok, read_llama_cpp_vectors(gguf.string() + ".inp"), name + " (gguf)", true);
}

INSTANTIATE_TEST_SUITE_P(AllWithVectors, GgufVocab,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "mpt",
                                           "refact", "starcoder"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(GgufVocabPrompts, GptNeoxAndMptAgainstHfGptNeoxPrompts) {
  const auto cases = read_hf_prompt_vectors(testdata("tokenizers/ggml-hf-prompts/gpt-neox.txt"));
  for (const char* name : {"gpt-neox", "mpt"}) {
    const tokenizer::Tokenizer tok = tokenizer::load_gguf_tokenizer(testdata(std::string("llama.cpp-vocab/ggml-vocab-") + name + ".gguf"));
    expect_vectors(tok, cases, std::string(name) + " (gguf) vs gpt-neox.txt", true);
  }
}

TEST(GgufVocabPrompts, Gpt2AgainstHfGpt2Prompts) {
  const tokenizer::Tokenizer tok = tokenizer::load_gguf_tokenizer(testdata("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"));
  expect_vectors(tok, read_hf_prompt_vectors(testdata("tokenizers/ggml-hf-prompts/gpt-2.txt")), "gpt-2 (gguf) vs gpt-2.txt", true);
}

TEST(GgufVocabSpecials, LlamaSpmSpecialTokensAndBos) {
  const tokenizer::Tokenizer tok = tokenizer::load_gguf_tokenizer(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
  // SOURCES.md: bos 1, eos 2, unk 0, add_bos_token true.
  EXPECT_EQ(tok.config().bos_token, "<s>");
  EXPECT_EQ(tok.config().eos_token, "</s>");
  EXPECT_EQ(tok.config().add_bos_token, true);
  const auto ids = tok.encode("Hello world", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(tok.decode(ids, true), "Hello world");
  EXPECT_EQ(tok.encode("<s>x", false, true).front(), 1);
}

// WordPiece (BAAI/bge-small-en-v1.5). Lowercasing and accent stripping lose information, so the
// round trip is not required; the ids must match.
TEST(GgufVocab, BertBgeMatchesLlamaCppVectors) {
  const auto gguf = testdata("llama.cpp-vocab/ggml-vocab-bert-bge.gguf");
  const tokenizer::Tokenizer tok = tokenizer::load_gguf_tokenizer(gguf);
  expect_vectors(tok, read_llama_cpp_vectors(gguf.string() + ".inp"), "bert-bge (gguf)", false);
}

TEST(GgufVocabSpecials, BertBgeAddsClsAndSep) {
  const tokenizer::Tokenizer tok = tokenizer::load_gguf_tokenizer(testdata("llama.cpp-vocab/ggml-vocab-bert-bge.gguf"));
  // SOURCES.md / the file: cls 101, seperator 102, unknown 100. The first .inp case ("ied 4 ½ months")
  // gives 29464 2094 1018 1092 2706 in the .out file.
  EXPECT_EQ(tok.encode("ied 4 \u00bd months", true), (std::vector<tokenizer::TokenId>{101, 29464, 2094, 1018, 1092, 2706, 102}));
  EXPECT_EQ(tok.decode(tok.encode("Hello, world!", true), true), "hello, world!");
}

}  // namespace
}  // namespace slmtune::testing
