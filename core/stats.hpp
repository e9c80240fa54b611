// What a run measured: per session, per kind, per pool. Filled by the simulator's recorder
// (and, live, from the step table's history); turned into JSON and tables by reports/.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "histogram.hpp"

namespace stepq {

struct KindStats {
  std::uint64_t steps = 0;      // steps of this kind in arrived sessions
  std::uint64_t completed = 0, failed = 0, cancelled = 0;
  std::uint64_t claims = 0;     // times a thread took one of them
  std::uint64_t requeues = 0;   // RUNNING → WAITING (polls, re-checks, retries)
  std::uint64_t retries = 0;    // of which retries after a failed attempt
  std::uint64_t lost = 0;       // finishes dropped because the lease was lost (session cancelled)
  Histogram wait_s;             // READY → RUNNING, per claim
  Histogram service_s;          // handler time per claim (thread held)
};

struct PoolStats {
  std::uint64_t claims = 0, empty_polls = 0;
  double busy_s = 0;            // thread-seconds spent on claimed steps
};

// Levels averaged over equal time bins, per pool: READY steps and threads running a step
// (filled by reports/timeline.hpp; the report's "over time" charts).
struct LevelSeries {
  double bin_s = 0;
  std::vector<double> t_s;                      // bin starts
  std::vector<std::vector<double>> ready, busy;  // per pool, one value per bin
};

struct RunStats {
  std::uint64_t arrived = 0, started = 0, failed = 0;
  Histogram startup_s;          // started − accepted, started sessions only
  double prepare_cost_sum = 0;  // over arrived sessions: the queue-blind estimate
  std::vector<KindStats> kinds;
  std::vector<PoolStats> pools;
  // Why sessions failed: the first few distinct reasons, each with how often it occurred.
  std::vector<std::pair<std::string, std::uint64_t>> failure_reasons;
  std::uint64_t failure_reason_count = 0;
  void add_failure(const std::string& reason);
  double simulated_s = 0, wall_s = 0;
  std::string warmup_method = "none";
  std::uint64_t warmup_dropped = 0;  // sessions at the start whose statistics were discarded
  std::string warmup_reason = "off";  // why (core/warmup.hpp): off, fixed, none, transient, fell, cap
  double warmup_contrast = 0;         // auto only: WarmupCut::contrast
  LevelSeries timeline;              // over the whole run, warm-up included
};

}  // namespace stepq
