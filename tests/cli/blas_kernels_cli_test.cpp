// slmtune runs itself again with OPENBLAS_CORETYPE when OpenBLAS fell back to kernels older than the
// CPU (core/blas_kernels.hpp). OpenBLAS itself says which kernels it loads when OPENBLAS_VERBOSE=2
// ("Core: NAME" on stderr, once per load), which the tests read as the independent witness; the
// second run must keep the arguments, standard input, output and exit status of the first.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/blas_kernels.hpp"
#include "support/test_support.hpp"

using slmtune::testing::CommandResult;
using slmtune::testing::run_command;
using slmtune::testing::shell_quote;
using slmtune::testing::TempDir;
using slmtune::testing::testdata;
using slmtune::testing::write_text;

namespace {

// The environment of a user who has set nothing (the test process itself may have been run again).
const std::string kFresh = "env -u OPENBLAS_CORETYPE -u SLMTUNE_OPENBLAS_CHOSE ";

std::vector<std::string> loaded_cores(const std::string& err) {
  std::vector<std::string> cores;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("Core: ", 0) == 0) cores.push_back(line.substr(6));
  return cores;
}

std::string slmtune_binary() { return shell_quote(SLMTUNE_BINARY); }

TEST(BlasKernelsCli, VersionRunsOnTheKernelsTheCpuAllows) {
  const CommandResult r = run_command(kFresh + "OPENBLAS_VERBOSE=2 " + slmtune_binary() + " --version");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> cores = loaded_cores(r.err);
  ASSERT_FALSE(cores.empty()) << "OpenBLAS did not say which kernels it loaded: " << r.err;
  const std::string own = cores.front();  // OpenBLAS' choice with nothing set
  const std::string better(slmtune::better_blas_core(own, slmtune::cpu_level()));
  if (better.empty()) {
    EXPECT_EQ(cores.size(), 1u) << "ran again although OpenBLAS' " << own << " kernels suit this CPU";
    EXPECT_NE(r.out.find("OpenBLAS kernels: " + own + "\n"), std::string::npos) << r.out;
  } else {
    ASSERT_EQ(cores.size(), 2u) << r.err;
    EXPECT_EQ(cores[1], better);
    EXPECT_NE(r.out.find("OpenBLAS kernels: " + better + " (OpenBLAS chose " + own + " for this CPU"),
              std::string::npos)
        << r.out;
  }
}

TEST(BlasKernelsCli, TheUsersOwnChoiceIsKept) {
  if (!slmtune::cpu_level().avx2_fma) GTEST_SKIP() << "the Haswell kernels need AVX2 and FMA";
  const CommandResult r = run_command("env -u SLMTUNE_OPENBLAS_CHOSE OPENBLAS_CORETYPE=Haswell OPENBLAS_VERBOSE=2 " +
                                      slmtune_binary() + " --version");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(loaded_cores(r.err), std::vector<std::string>{"Haswell"});
  EXPECT_NE(r.out.find("OpenBLAS kernels: Haswell\n"), std::string::npos) << r.out;
}

TEST(BlasKernelsCli, TheSecondRunKeepsArgumentsInputOutputAndExitStatus) {
  // Whatever kernels the first run settles on, the same command with them already set runs once.
  const CommandResult version = run_command(kFresh + slmtune_binary() + " --version");
  ASSERT_EQ(version.exit_code, 0) << version.err;
  const size_t at = version.out.find("OpenBLAS kernels: ");
  ASSERT_NE(at, std::string::npos) << version.out;
  const std::string settled = version.out.substr(at + 18, version.out.find_first_of(" \n", at + 18) - at - 18);
  const std::string once = "env -u SLMTUNE_OPENBLAS_CHOSE OPENBLAS_CORETYPE=" + settled + " ";

  TempDir dir;
  write_text(dir / "input", "a line with 'quotes' and  two spaces\n");
  const std::string model = shell_quote(testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"));
  const std::string tokenize = slmtune_binary() + " tokenize " + model + " --file /dev/stdin --tokens <" +
                               shell_quote(dir / "input");
  // In parentheses: run_command gives the whole line /dev/null as its input.
  const CommandResult fresh = run_command("(" + kFresh + tokenize + ")");
  const CommandResult direct = run_command("(" + once + tokenize + ")");
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_FALSE(direct.out.empty());
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out, direct.out);
  EXPECT_EQ(fresh.err, direct.err);

  const std::string bad = slmtune_binary() + " tokenize " + shell_quote(dir / "missing.gguf") + " --text 'two words'";
  const CommandResult fresh_bad = run_command(kFresh + bad);
  const CommandResult direct_bad = run_command(once + bad);
  EXPECT_EQ(direct_bad.exit_code, 1) << direct_bad.err;
  EXPECT_EQ(fresh_bad.exit_code, direct_bad.exit_code);
  EXPECT_EQ(fresh_bad.err, direct_bad.err);
}

}  // namespace
