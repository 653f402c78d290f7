#pragma once
// Helpers shared by every test suite: where the third-party test data is, scratch directories, and
// running the built `slmtune` program.
#include <filesystem>
#include <string>
#include <string_view>

#include "core/rng.hpp"

namespace slmtune::testing {

// ../shared/testdata (or $SLMTUNE_TESTDATA), joined with `relative`.
std::filesystem::path testdata(const std::string& relative = "");
// The repository root.
std::filesystem::path source_dir();

// A fresh directory removed at the end of its scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_text(const std::filesystem::path& path, const std::string& text);

// `text` with one random edit: a byte deleted, or a byte of `alphabet` inserted or written over one
// (for properties over near-misses of valid input: what a parser or grammar accepts must stay valid).
std::string one_byte_edit(std::string text, Rng& rng, std::string_view alphabet);

struct CommandResult {
  int exit_code = 0;
  std::string out;  // stdout
  std::string err;  // stderr
};
// 'path' for a shell command line (test paths hold no single quotes).
std::string shell_quote(const std::filesystem::path& path);

// Runs build/slmtune with `arguments` (a shell-quoted string).
CommandResult run_slmtune(const std::string& arguments);
// The same with `input` on its standard input (chat reads its turns there).
CommandResult run_slmtune_with_input(const std::string& arguments, const std::string& input);

// Runs any shell command line (e.g. one of the repository's Python scripts), stdin from /dev/null.
CommandResult run_command(const std::string& command_line);

// The contract of every bad input: exit status 1, nothing on stdout, and one line on stderr,
// "error: …", that contains `fragment`.
void expect_one_line_error(const CommandResult& result, const std::string& fragment);

}  // namespace slmtune::testing
