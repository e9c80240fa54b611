// `stepq live init|submit|run|status|cancel`: the live engine's commands.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace stepq {

struct LiveCommands;

// Adds the `live` command and its subcommands to `app`; keep the result alive until run.
std::shared_ptr<LiveCommands> add_live_commands(CLI::App& app);
// After parsing: the exit status if a live subcommand was chosen, nullopt otherwise.
std::optional<int> run_live_commands(LiveCommands& c);

}  // namespace stepq
