// Encoding throughput (MB/s, one thread) of the tokenizers on a few MB of mixed English, code
// (Jinja templates, JSON) and Unicode text taken from ../shared/testdata, each file read once.
// Built with -DSLMTUNE_BENCH=ON; run build/tokenizer_bench [TESTDATA_DIR [NAME_FILTER]]
// (TESTDATA_DIR defaults to ../shared/testdata; NAME_FILTER keeps the vocabularies whose name
// contains it, e.g. "gpt-2" for a profile under callgrind).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
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

std::string name_filter;

// CPU time of this thread: on a shared machine the wall clock also counts the time other
// processes held the core, which says nothing about the tokenizer.
double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

void measure(const std::string& name, const std::function<Tokenizer()>& load, const std::vector<std::string>& documents) {
  if (name.find(name_filter) == std::string::npos) return;
  size_t bytes = 0;
  for (const auto& d : documents) bytes += d.size();
  const Tokenizer tok = load();
  for (int pass = 0; pass < 2; ++pass) {
    size_t tokens = 0;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    for (const auto& document : documents) tokens += tok.encode(document).size();
    const double cpu_seconds = thread_cpu_seconds() - cpu_start;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{:<34} {} pass: {:6.2f} MB in {:6.3f} s = {:6.2f} MB/s wall, {:6.2f} MB per CPU-second ({} tokens, {:.2f} bytes/token)\n",
               name, pass == 0 ? "cold" : "warm", bytes / 1e6, seconds, bytes / 1e6 / seconds, bytes / 1e6 / cpu_seconds, tokens,
               static_cast<double>(bytes) / static_cast<double>(tokens));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const fs::path root = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/testdata");
    if (argc > 2) name_filter = argv[2];
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
