// Independent replications: the experiment runner behind `simulate --replications/--precision`.
//
// Replication r runs in its own process (a SimGrid engine runs once per process) with seed
// `replication_seed(base, r)`; `jobs` of them run at a time. Results are combined in replication
// order, so the output is the same whatever `jobs` is. Point estimates are means over
// replications; 95% intervals are Student t over replications (research/simulation.md §4).
#pragma once
#include <nlohmann/json.hpp>

#include "simulation.hpp"

namespace stepq::sim {

struct ReplicationPlan {
  int replications = 1;  // at least this many
  int jobs = 0;          // processes at a time; 0 = one per core
  double precision = 0;  // > 0: add replications until the relative half-width of the mean
                         // and p95 start-up is at most this, or max_replications is reached
  int max_replications = 100;
};

std::uint64_t replication_seed(std::uint64_t base, int r);

struct Replications {
  std::vector<nlohmann::ordered_json> runs;  // each replication's result JSON, in order
  nlohmann::ordered_json stopping;           // with a precision target: the stopping rule's outcome
};

// Throws std::runtime_error if any replication failed.
Replications run_each(const Scenario& sc, const SimOptions& opt, const ReplicationPlan& plan);
// run_each, combined: the `simulate --replications` result.
nlohmann::ordered_json run_replications(const Scenario& sc, const SimOptions& opt, const ReplicationPlan& plan);

// Combines per-replication result JSONs (exposed for tests).
nlohmann::ordered_json combine_replications(const std::vector<nlohmann::ordered_json>& runs);

}  // namespace stepq::sim
