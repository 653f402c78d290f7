#include "test_vectors.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace slmtune::testing {

namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<tokenizer::TokenId> parse_ids(const std::string& text, char separator) {
  std::vector<tokenizer::TokenId> ids;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, separator)) {
    if (item.empty()) continue;
    ids.push_back(std::stoi(item));
  }
  return ids;
}

}  // namespace

std::vector<TokenizerCase> read_llama_cpp_vectors(const std::filesystem::path& inp) {
  const std::string separator = "\n__ggml_vocab_test__\n";
  const std::string input = slurp(inp);
  std::vector<std::string> texts;
  size_t pos = 0;
  while (true) {
    const size_t next = input.find(separator, pos);
    if (next == std::string::npos) {
      if (pos < input.size()) texts.push_back(input.substr(pos));
      break;
    }
    texts.push_back(input.substr(pos, next - pos));
    pos = next + separator.size();
  }
  std::filesystem::path out_path = inp;
  out_path.replace_extension(".out");
  const std::string output = slurp(out_path);
  std::vector<TokenizerCase> cases;
  std::istringstream lines(output);
  std::string line;
  for (const auto& text : texts) {
    if (!std::getline(lines, line)) throw std::runtime_error(out_path.string() + " has fewer lines than tests");
    cases.push_back({text, parse_ids(line, ' ')});
  }
  return cases;
}

std::vector<TokenizerCase> read_hf_prompt_vectors(const std::filesystem::path& path) {
  std::vector<TokenizerCase> cases;
  std::istringstream lines(slurp(path));
  std::string line;
  while (std::getline(lines, line)) {
    const size_t arrow = line.find(" => ");
    if (arrow == std::string::npos) continue;
    cases.push_back({line.substr(0, arrow), parse_ids(line.substr(arrow + 4), ',')});
  }
  return cases;
}

}  // namespace slmtune::testing
