// Loading a scenario from a file: the I/O that core/ leaves to its caller.
//
// Contract: returns a validated Scenario or throws ScenarioError with one line that starts with
// `path` exactly as given (so messages name the file the user typed). Files the scenario names
// (a trace of arrivals) are read relative to the scenario file's directory.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/scenario_load.hpp"

namespace stepq {

Scenario load_scenario_file(const std::string& path, const std::vector<Override>& overrides = {});

// SCENARIO and its --set overrides, as validate, simulate and analyze take them.
struct ScenarioArgs {
  std::string scenario;
  std::vector<std::string> sets;
};
void add_scenario_args(CLI::App* cmd, ScenarioArgs& a);
Scenario load_scenario(const ScenarioArgs& a);  // ScenarioError for a bad --set too

}  // namespace stepq
