// Writing tokenizers into GGUF and reading them back: the reread tokenizer must still reproduce
// the HF reference ids (so an exported model tokenizes exactly as the original).
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tokenizer/gguf_tokenizer_writer.hpp"
#include "tokenizer/loaders.hpp"
#include "vector_check.hpp"

namespace slmtune::testing {
namespace {

tokenizer::Tokenizer round_trip(const tokenizer::Tokenizer& tok, const TempDir& dir) {
  gguf::Writer writer;
  writer.set("general.architecture", gguf::Value::string("llama"));
  tokenizer::add_tokenizer_to_gguf(tok, writer);
  writer.write(dir / "vocab.gguf");
  return tokenizer::load_gguf_tokenizer(dir / "vocab.gguf");
}

TEST(GgufWriter, Llama2TokenizerJsonSurvivesGguf) {
  TempDir dir;
  const auto tok = round_trip(tokenizer::Tokenizer::load(testdata("tokenizers/llama-2")), dir);
  expect_vectors(tok, read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf.inp")), "llama-2 json→gguf", true);
  EXPECT_EQ(tok.config().bos_token, "<s>");
  EXPECT_EQ(tok.config().add_bos_token, true);
  EXPECT_EQ(tok.encode("Hello world", true).front(), 1);
}

TEST(GgufWriter, Phi2AndLlama3SurviveGguf) {
  TempDir dir;
  const auto phi2 = round_trip(tokenizer::Tokenizer::load(testdata("tokenizers/microsoft-phi-2")), dir);
  EXPECT_EQ(phi2.config().gguf_pre, "gpt-2");
  expect_vectors(phi2, read_hf_prompt_vectors(testdata("tokenizers/ggml-hf-prompts/gpt-2.txt")), "phi-2 json→gguf", true);
  EXPECT_EQ(phi2.encode("x     y").size(), 3u);  // the whitespace-run added token survived
  const auto llama3 = round_trip(tokenizer::load_gpt2_files(testdata("tokenizers/llama3.2-bpe-ollama/encoder.json"),
                                                            testdata("tokenizers/llama3.2-bpe-ollama/vocab.bpe"), "llama-bpe"),
                                 dir);
  expect_vectors(llama3, read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-llama-bpe.gguf.inp")), "llama-3.2 files→gguf", true);
}

TEST(GgufWriter, GgufToGgufKeepsIds) {
  TempDir dir;
  for (const char* name : {"phi-3", "falcon", "deepseek-llm"}) {
    const auto gguf = testdata(std::string("llama.cpp-vocab/ggml-vocab-") + name + ".gguf");
    const auto tok = round_trip(tokenizer::load_gguf_tokenizer(gguf), dir);
    expect_vectors(tok, read_llama_cpp_vectors(gguf.string() + ".inp"), std::string(name) + " gguf→gguf", true);
  }
}

}  // namespace
}  // namespace slmtune::testing
