// `stepq tune SCENARIO --target p95=SECONDS …`: least-cost pool sizes that meet the targets.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace stepq {

struct TuneCommand;

std::shared_ptr<TuneCommand> add_tune_command(CLI::App& app);
// After parsing: the exit status if `tune` was chosen, nullopt otherwise.
std::optional<int> run_tune_command(TuneCommand& c);

}  // namespace stepq
