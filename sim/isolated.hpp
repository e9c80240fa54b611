// Runs one simulation in a child process and returns its result JSON.
//
// Why: a SimGrid engine runs once per process (its clock does not reset), so tests, replications
// and tuning candidates each get a fresh process. fork() shares the already-parsed scenario.
#pragma once
#include <nlohmann/json.hpp>

#include "simulation.hpp"

namespace stepq::sim {

// Throws std::runtime_error with the child's error message if the simulation failed.
nlohmann::ordered_json run_isolated(const Scenario& scenario, const SimOptions& options = {});

}  // namespace stepq::sim
