// `stepq calibrate --db URL --scenario BASE -o FITTED.json`: a scenario learnt from the live
// execution log (issue 17, item 1).
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace stepq {

struct CalibrateCommand;

std::shared_ptr<CalibrateCommand> add_calibrate_command(CLI::App& app);
// After parsing: the exit status if `calibrate` was chosen, nullopt otherwise.
std::optional<int> run_calibrate_command(CalibrateCommand& c);

}  // namespace stepq
