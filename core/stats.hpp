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
  std::uint64_t steps = 0;  // steps of this kind in arrived sessions
  std::uint64_t completed = 0, failed = 0, cancelled = 0;
  std::uint64_t claims = 0;               // times a thread took one of them
  std::uint64_t requeues = 0;             // RUNNING → WAITING (polls, re-checks, retries)
  std::uint64_t retries = 0;              // of which retries after a failed attempt
  std::uint64_t lost = 0;                 // finishes dropped because the lease was lost (session cancelled)
  std::uint64_t located = 0, copied = 0;  // transfer items: a local replica found; bytes moved (or a rule)
  Histogram wait_s;                       // READY → RUNNING, per claim
  Histogram service_s;                    // handler time per claim (thread held)
};

struct PoolStats {
  std::uint64_t claims = 0, empty_polls = 0;
  double busy_s = 0;  // thread-seconds spent on claimed steps
};

struct ClusterStats {
  std::uint64_t submitted = 0, admitted = 0, refused = 0;  // refused: by the per-user limit
  Histogram pending_s;                                     // submitted → admitted, of the sessions that started
  double cores_s = 0, memory_GB_s = 0, queued_s = 0;       // time integrals of what is in use or waiting
  std::uint64_t max_queue = 0;
};

// A network link's transfers (simulator): time integrals over the run, warm-up included.
struct LinkStats {
  std::uint64_t transfers = 0;
  double bytes = 0;
  Histogram transfer_s;  // moving: from the slot taken (at every capped link of its route) to the last byte
  Histogram queue_s;     // waiting for a slot at this link (its max_active); 0 without a cap
  double queued_s = 0, active_s = 0, busy_s = 0;  // ∫ waiting dt, ∫ active dt, time with one or more active
  std::uint64_t max_queue = 0, max_active = 0;
};

// Where a started session's start-up went, along its critical path (sums over sessions):
// pending = waiting for its cluster to admit it; wait = READY steps waiting for a thread;
// service = threads working on its steps; other = the rest (start latency after admission,
// the lag to the next poll, retry back-offs).
struct StartupSplit {
  double pending = 0, wait = 0, service = 0, other = 0;
};

// Levels averaged over equal time bins, per series: for a pool READY steps and threads running a
// step; for a cluster (two series) queued requests and cores in use, then memory in use and the
// running count of refused launches (filled by reports/timeline.hpp; the "over time" charts).
struct LevelSeries {
  double bin_s = 0;
  std::vector<double> t_s;                       // bin starts
  std::vector<std::vector<double>> ready, busy;  // per pool, one value per bin
};

struct RunStats {
  std::uint64_t arrived = 0, started = 0, failed = 0;
  double interarrival_s_mean = 0;    // (last arrival − first) / (arrived − 1): the observed mean gap
  std::uint64_t completed = 0;       // released after they started or failed (templates with release steps)
  std::uint64_t release_failed = 0;  // a release step failed: what it held may not have come back
  // Templates with a lease (scenario.hpp LeaseSpec): renewals made, made late, given up.
  std::uint64_t lease_extensions = 0, lease_late = 0, lease_failed = 0;
  StartupSplit split;  // sums over started sessions
  std::vector<ClusterStats> clusters;
  std::vector<LinkStats> links;
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
  std::uint64_t warmup_dropped = 0;   // sessions at the start whose statistics were discarded
  std::string warmup_reason = "off";  // why (core/warmup.hpp): off, fixed, none, transient, fell, cap
  double warmup_contrast = 0;         // auto only: WarmupCut::contrast
  // Over the whole run, warm-up included: pools, then 2 per cluster, then 2 per link (queued and
  // active transfers; throughput in MB/s and an unused level).
  LevelSeries timeline;
};

}  // namespace stepq
