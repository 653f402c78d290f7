// tokenizer.json (and GPT-2 file) tokenizers against ids produced by Hugging Face tokenizers.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tokenizer/loaders.hpp"
#include "vector_check.hpp"

namespace slmtune::testing {
namespace {

using tokenizer::Tokenizer;

const Tokenizer& phi3() {
  static const Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct/tokenizer.json"));
  return tok;
}
const Tokenizer& llama2() {
  static const Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/llama-2/tokenizer.json"));
  return tok;
}
const Tokenizer& phi2() {
  static const Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  return tok;
}

TEST(TokenizerJsonVectors, Phi3AgainstLlamaCppPhi3Vectors) {
  expect_vectors(phi3(), read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-phi-3.gguf.inp")), "phi-3 tokenizer.json", true);
}

TEST(TokenizerJsonVectors, Llama2AgainstLlamaCppSpmVectors) {
  expect_vectors(llama2(), read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf.inp")),
                 "llama-2 tokenizer.json", true);
}

TEST(TokenizerJsonVectors, Phi2AgainstHfGpt2Prompts) {
  expect_vectors(phi2(), read_hf_prompt_vectors(testdata("tokenizers/ggml-hf-prompts/gpt-2.txt")), "phi-2 tokenizer.json", true);
}

TEST(TokenizerJsonVectors, Phi2AgainstLlamaCppGpt2Vectors) {
  // phi-2 is GPT-2's BPE plus added whitespace-run tokens, so GPT-2's vectors hold wherever the
  // text has no run of 2+ spaces outside what GPT-2 itself merges; the run cases are checked below.
  const auto cases = read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-gpt-2.gguf.inp"));
  std::vector<TokenizerCase> without_runs;
  for (const auto& c : cases)
    if (c.text.find("  ") == std::string::npos) without_runs.push_back(c);
  expect_vectors(phi2(), without_runs, "phi-2 tokenizer.json (gpt-2 vectors without space runs)", true);
}

TEST(TokenizerJsonVectors, Llama32Gpt2FilesAgainstLlamaBpeVectors) {
  const Tokenizer tok = tokenizer::load_gpt2_files(testdata("tokenizers/llama3.2-bpe-ollama/encoder.json"),
                                                   testdata("tokenizers/llama3.2-bpe-ollama/vocab.bpe"), "llama-bpe");
  expect_vectors(tok, read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-llama-bpe.gguf.inp")),
                 "llama3.2 encoder.json+vocab.bpe", true);
}

TEST(TokenizerJsonVectors, Gpt2OrtxFilesAgainstHfGpt2Prompts) {
  const Tokenizer tok = tokenizer::load_gpt2_files(testdata("tokenizers/gpt2-ortx/gpt2.vocab"),
                                                   testdata("tokenizers/gpt2-ortx/gpt2.merges.txt"), "gpt-2");
  expect_vectors(tok, read_hf_prompt_vectors(testdata("tokenizers/ggml-hf-prompts/gpt-2.txt")), "gpt-2 vocab.json+merges.txt", true);
  expect_vectors(tok, read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-gpt-2.gguf.inp")),
                 "gpt-2 vocab.json+merges.txt (llama.cpp vectors)", true);
}

}  // namespace
}  // namespace slmtune::testing
