#pragma once
// Readers for the third-party tokenizer test vectors (formats described in testdata/SOURCES.md).
#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/model.hpp"

namespace slmtune::testing {

struct TokenizerCase {
  std::string text;
  std::vector<tokenizer::TokenId> ids;
};

// llama.cpp's NAME.gguf.inp / NAME.gguf.out pair (the .inp path is given; .out sits beside it).
std::vector<TokenizerCase> read_llama_cpp_vectors(const std::filesystem::path& inp);
// ggml's "<sentence> => id,id,..." prompt files.
std::vector<TokenizerCase> read_hf_prompt_vectors(const std::filesystem::path& path);

}  // namespace slmtune::testing
