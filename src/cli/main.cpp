// slmtune: fine-tune small language models for function calling and run them on CPUs.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/memory_reuse.hpp"
#include "core/parallel.hpp"
#include "core/blas_kernels.hpp"

namespace slmtune::cli {
namespace {
struct Entry {
  int order;
  std::function<void(CLI::App&)> add;
};
std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}
}  // namespace

CommandRegistration::CommandRegistration(int order, std::function<void(CLI::App&)> add) {
  registry().push_back({order, std::move(add)});
}

void add_registered_commands(CLI::App& app) {
  auto& entries = registry();
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.order < b.order; });
  for (const auto& entry : entries) entry.add(app);
}

}  // namespace slmtune::cli

int main(int argc, char** argv) {
  slmtune::match_blas_kernels_to_cpu(argv);  // may run the program again, with better BLAS kernels
  slmtune::keep_freed_memory_for_reuse();    // training steps reuse their buffers' pages
  CLI::App app{
      "slmtune: fine-tune small language models (Llama, Qwen2, Phi-3, phi-2, SmolLM2…) for function calling\n"
      "and run them on CPUs. Run `slmtune COMMAND --help` for each command's options.",
      "slmtune"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return "slmtune 0.1.0\n" + slmtune::blas_kernels_summary(); });
  int thread_count = 0;
  bool quiet = false;
  int verbose = 0;
  app.add_option("--threads", thread_count, "Threads for compute and BLAS (0 = all cores)")->default_val(0);
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
  app.add_flag("-v,--verbose", verbose, "More detail on stderr (repeat for debug)");
  app.parse_complete_callback([&] {
    slmtune::set_threads(thread_count);
    if (quiet) slmtune::log::set_level(slmtune::log::Level::quiet);
    else if (verbose >= 2) slmtune::log::set_level(slmtune::log::Level::debug);
    if (slmtune::log::level() >= slmtune::log::Level::debug)  // the summary asks OpenBLAS: only when shown
      slmtune::log::debug("{}", slmtune::blas_kernels_summary());
  });
  slmtune::cli::add_registered_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const slmtune::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
