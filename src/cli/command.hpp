#pragma once
// Each subcommand lives in its own file and registers itself here, so adding one never edits main.cpp.
// `order` sets its place in `slmtune --help` (pipeline order: inspect, data, train, export, serve…).
#include <CLI/CLI.hpp>

#include <functional>

namespace slmtune::cli {

struct CommandRegistration {
  CommandRegistration(int order, std::function<void(CLI::App&)> add);
};

void add_registered_commands(CLI::App& app);

}  // namespace slmtune::cli
