// `stepq tune`: the least-cost thread counts per pool, and node counts per cluster, that meet
// start-up targets.
//
// The search vector ("sizes") is every pool's threads, then per cluster the count of its FIRST
// node group (platform.clusters.C.nodes[0].count): the other groups stay as written, since which
// kind of node to buy is the operator's choice, not the queue's.
//
//   1. Start from the analytic answer: each cluster's least first-group nodes for stability and
//      each pool's least threads for stability (core/analytic.hpp).
//   2. Greedy marginal search by simulation: add the thread or node that buys the largest
//      reduction of the target metric per unit of cost, until the targets are met or the budgets
//      are spent; then take away threads and nodes that are not needed. Every candidate is
//      simulated with the SAME replication seeds (common random numbers: per-session streams do
//      not depend on pool or cluster sizes), so differences between candidates are the
//      configuration's, not noise.
//   3. Verify the chosen configuration with fresh seeds: intervals, utilisation.
//
// The target metric is max over targets of (start-up quantile ÷ target): ≤ 1 means met.
#pragma once
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "replications.hpp"

namespace stepq::sim {

// "p95" = start-up p95; "wait.p95" = the p95 queue wait (READY → claimed) of every kind.
struct TuneTarget {
  std::string name;  // p50, p95, p99, wait.p50, wait.p95 or wait.p99
  double seconds = 0;
  // The target's quantity in a (combined) simulation result.
  double value(const nlohmann::ordered_json& result) const;
};

// A node is a machine, a thread a slot in a process: by default one node costs ten threads.
inline constexpr double kNodeCost = 10;

struct TunePlan {
  std::vector<TuneTarget> targets;
  int max_threads = 0;                // total over pools; 0 = twice the analytic start + 16
  int max_nodes = 0;                  // total over clusters' first groups; 0 = twice the analytic start + 16
  std::vector<double> weights;        // cost of one thread, per pool; empty = 1 each
  std::vector<double> node_weights;   // cost of one node, per cluster; empty = kNodeCost each
  int replications = 4;               // per candidate in the search
  std::uint64_t search_sessions = 0;  // sessions per candidate; 0 = a quarter of the scenario's, ≥ 5000
  int verify_replications = 8;        // fresh seeds for the chosen configuration
  int jobs = 0;                       // processes at a time; 0 = one per core
  std::vector<double> rates;          // --rates: load levels, multiples of the scenario's arrival rate
  bool progress = false;
};

struct TuneResult {
  std::vector<int> threads;  // chosen, per pool
  std::vector<int> nodes;    // chosen first-group count, per cluster
  bool met = false;
  nlohmann::ordered_json json;  // the whole answer (keys in tune_json's comment)
};

// Throws std::invalid_argument for a plan that cannot be searched (no target, trace arrivals
// with --rates, a link that no thread count can relieve, a cluster that no node count can), or
// std::runtime_error if a simulation fails.
TuneResult tune(const Scenario& sc, const TunePlan& plan);

// The scenario with the chosen pool sizes and first-group node counts, as JSON text (for --apply).
std::string apply_threads(const std::string& scenario_text, const std::string& file, const Scenario& sc,
                          const std::vector<int>& threads, const std::vector<int>& nodes = {});

}  // namespace stepq::sim
