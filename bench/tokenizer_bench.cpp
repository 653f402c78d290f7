// Encoding throughput (MB/s, one thread) of the tokenizers on a few MB of mixed English, code
// (Jinja templates, JSON) and Unicode text taken from ../shared/testdata, each file read once.
// Not built by CMake yet; from the repository root, after building test_tokenizer in build-tokenizer:
//   g++ -O2 -std=c++20 -Isrc bench/tokenizer_bench.cpp build-tokenizer/libslmtune_tokenizer.a
//       build-tokenizer/libslmtune_formats.a build-tokenizer/libslmtune_core.a -lpcre2-8 -lfmt
//       -o build-tokenizer/tokenizer_bench
// and run build-tokenizer/tokenizer_bench [TESTDATA_DIR] (default ../shared/testdata).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "tokenizer/loaders.hpp"

namespace fs = std::filesystem;
using slmtune::tokenizer::Tokenizer;

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Documents of the corpus: every text-like file under the test data, in a fixed order.
std::vector<std::string> corpus(const fs::path& root) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".md" || ext == ".jinja" || ext == ".txt" || ext == ".inp" ||
                                    (ext == ".json" && entry.path().string().find("goldens") != std::string::npos)))
      paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> documents;
  for (const auto& path : paths) documents.push_back(read_all(path));
  return documents;
}

void measure(const std::string& name, const std::function<Tokenizer()>& load, const std::vector<std::string>& documents) {
  size_t bytes = 0;
  for (const auto& d : documents) bytes += d.size();
  const Tokenizer tok = load();
  for (int pass = 0; pass < 2; ++pass) {
    size_t tokens = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& document : documents) tokens += tok.encode(document).size();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{:<34} {} pass: {:6.2f} MB in {:6.3f} s = {:6.2f} MB/s ({} tokens, {:.2f} bytes/token)\n", name,
               pass == 0 ? "cold" : "warm", bytes / 1e6, seconds, bytes / 1e6 / seconds, tokens,
               static_cast<double>(bytes) / static_cast<double>(tokens));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const fs::path root = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/testdata");
    const auto documents = corpus(root);
    measure("gpt-2 (vocab.json + merges.txt)", [&] {
      return slmtune::tokenizer::load_gpt2_files(root / "tokenizers/gpt2-ortx/gpt2.vocab", root / "tokenizers/gpt2-ortx/gpt2.merges.txt");
    }, documents);
    measure("phi-2 (tokenizer.json)", [&] { return Tokenizer::load(root / "tokenizers/microsoft-phi-2/tokenizer.json"); }, documents);
    measure("llama-3.2 (encoder.json + vocab.bpe)", [&] {
      return slmtune::tokenizer::load_gpt2_files(root / "tokenizers/llama3.2-bpe-ollama/encoder.json",
                                                 root / "tokenizers/llama3.2-bpe-ollama/vocab.bpe", "llama-bpe");
    }, documents);
    measure("llama-2 (tokenizer.json)", [&] { return Tokenizer::load(root / "tokenizers/llama-2/tokenizer.json"); }, documents);
    measure("llama-2 (gguf)", [&] { return Tokenizer::load(root / "llama.cpp-vocab/ggml-vocab-llama-spm.gguf"); }, documents);
  } catch (const slmtune::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
