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
#include "core/trace.hpp"

namespace stepq::sim {

// Which sessions at the start of a run to leave out of the statistics (the warm-up transient).
// `automatic` (the default, "auto"): MSER-5 checked against the rest of the run (core/warmup.hpp);
// `mser5`: MSER-5 alone, as published (biased low on stationary heavy-traffic runs).
struct Warmup {
  enum class Method { none, automatic, mser5, fixed } method = Method::automatic;
  std::uint64_t sessions = 0;  // fixed: how many
  // Parses "auto", "none", "mser5" or a number of sessions; throws std::invalid_argument.
  static Warmup parse(const std::string& s);
  std::string name() const;
};

struct SimOptions {
  Warmup warmup;
  TraceSink* trace = nullptr;            // --trace: every claim and session, as they happen
  bool progress = false;                 // a progress line on stderr (only when it is a terminal)
  std::vector<std::string> simgrid_cfg;  // extra --cfg=name:value settings
  // Tests replace the platform's services (e.g. to throw inside an actor).
  std::function<std::unique_ptr<Services>(Clock&, Capacity&)> services;
};

// The SimGrid command line every run starts its engine with: stepq's network model settings, then
// the options' extra --cfg settings.
std::vector<std::string> engine_args(const SimOptions& options);

// Throws std::runtime_error when an actor failed (the message says which and why).
RunStats run_simulation(const Scenario& scenario, const SimOptions& options = {});

}  // namespace stepq::sim
