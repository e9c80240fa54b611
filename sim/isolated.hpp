// Runs one simulation in a child process and returns its result JSON.
//
// Why: a SimGrid engine runs once per process (its clock does not reset), so tests, replications
// and tuning candidates each get a fresh process. fork() shares the already-parsed scenario.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>

#include "simulation.hpp"

namespace stepq::sim {

// Runs `body` in a forked child and returns the JSON it returned. Throws std::runtime_error with
// the child's error message if it threw, or saying how the child died.
nlohmann::ordered_json run_in_child(const std::function<nlohmann::ordered_json()>& body);

// Throws std::runtime_error with the child's error message if the simulation failed.
nlohmann::ordered_json run_isolated(const Scenario& scenario, const SimOptions& options = {});

}  // namespace stepq::sim
