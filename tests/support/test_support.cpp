#include "support/test_support.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace slmtune::testing {

std::string one_byte_edit(std::string text, Rng& rng, std::string_view alphabet) {
  const size_t pos = rng.below(text.size() + 1);
  const char c = alphabet[rng.below(alphabet.size())];
  switch (rng.below(3)) {
    case 0: if (pos < text.size()) text.erase(pos, 1); break;
    case 1: text.insert(pos, 1, c); break;
    default: if (pos < text.size()) text[pos] = c; break;
  }
  return text;
}

std::filesystem::path testdata(const std::string& relative) {
  const char* env = std::getenv("SLMTUNE_TESTDATA");
  std::filesystem::path root = env && *env ? env : SLMTUNE_TESTDATA_DIR;
  return relative.empty() ? root : root / relative;
}

std::filesystem::path source_dir() { return SLMTUNE_SOURCE_DIR; }

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("slmtune-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

namespace {
std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
}  // namespace

namespace {

CommandResult run_reading(const std::string& command_line, const std::string& stdin_path) {
  TempDir scratch;
  const auto out_path = scratch / "stdout";
  const auto err_path = scratch / "stderr";
  const std::string command =
      command_line + " >'" + out_path.string() + "' 2>'" + err_path.string() + "' <'" + stdin_path + "'";
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

CommandResult run_slmtune_reading(const std::string& arguments, const std::string& stdin_path) {
  return run_reading(std::string("'") + SLMTUNE_BINARY + "' " + arguments, stdin_path);
}

}  // namespace

CommandResult run_command(const std::string& command_line) { return run_reading(command_line, "/dev/null"); }

CommandResult run_slmtune(const std::string& arguments) { return run_slmtune_reading(arguments, "/dev/null"); }

CommandResult run_slmtune_with_input(const std::string& arguments, const std::string& input) {
  TempDir scratch;
  write_text(scratch / "stdin", input);
  return run_slmtune_reading(arguments, (scratch / "stdin").string());
}

std::string shell_quote(const std::filesystem::path& path) {
  // Appended piece by piece: GCC 12's -Wrestrict misfires on "'" + a temporary string.
  std::string out = "'";
  out += path.string();
  out += "'";
  return out;
}

void expect_one_line_error(const CommandResult& result, const std::string& fragment) {
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(result.out.empty()) << result.out;
  ASSERT_FALSE(result.err.empty());
  EXPECT_EQ(result.err.rfind("error: ", 0), 0u) << result.err;
  EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << result.err;
  EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
}

}  // namespace slmtune::testing
