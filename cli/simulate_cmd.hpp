// `stepq simulate SCENARIO`: the SimGrid simulation, one run or replications, with the summary
// table, the result JSON, a CSV trace and the HTML report.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace stepq {

struct SimulateCommand;

std::shared_ptr<SimulateCommand> add_simulate_command(CLI::App& app);
// After parsing: the exit status if `simulate` was chosen, nullopt otherwise.
std::optional<int> run_simulate_command(SimulateCommand& c);

}  // namespace stepq
