// Simulating a scenario on SimGrid 3.32.
//
// Contract: run_simulation builds the platform, starts one actor per pool thread (never one per
// session), a session generator and a promoter of WAITING steps, runs the engine to the end and
// returns what was measured. A SimGrid engine runs once per process: call it at most once, or
// use run_isolated (isolated.hpp), which runs it in a child process.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/interfaces.hpp"
#include "core/scenario.hpp"
#include "core/stats.hpp"

namespace stepq::sim {

struct SimOptions {
  bool progress = false;               // a progress line on stderr (only when it is a terminal)
  std::vector<std::string> simgrid_cfg;  // extra --cfg=name:value settings
  // Tests replace the platform's services (e.g. to throw inside an actor).
  std::function<std::unique_ptr<Services>(Clock&)> services;
};

// Throws std::runtime_error when an actor failed (the message says which and why).
RunStats run_simulation(const Scenario& scenario, const SimOptions& options = {});

}  // namespace stepq::sim
