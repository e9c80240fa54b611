// `stepq forecast --db URL --scenario FITTED.json`: each in-flight session's start-up, and a new
// session's if submitted now, simulated forward from the live queue's state (issue 17, item 2).
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace stepq {

struct ForecastCommand;

std::shared_ptr<ForecastCommand> add_forecast_command(CLI::App& app);
// After parsing: the exit status if `forecast` was chosen, nullopt otherwise.
std::optional<int> run_forecast_command(ForecastCommand& c);

}  // namespace stepq
