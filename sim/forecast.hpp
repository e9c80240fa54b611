// Forecasting from the live queue (issue 17, item 2): the simulation started from a snapshot of
// the step table rather than from an empty queue, run forward R times.
//
// Each replication restores the snapshot (World::restore), continues each RUNNING step for its
// service drawn beyond what it has run already and each poll's ready time beyond its last look,
// submits one new session of the chosen template at time 0 (the queue-aware offer: what a user
// submitting now would see), lets arrivals continue at the scenario's rate, and stops once every
// session of the snapshot still in start-up, and the new one, has started or failed.
// Replication r runs in its own process with a seed derived from the scenario's and r, never the
// scenario's own: on the emulated platform that seed's draws are the live run's future.
#pragma once
#include <cstdint>
#include <vector>

#include "core/queue_snapshot.hpp"
#include "core/scenario.hpp"

namespace stepq::sim {

struct ForecastPlan {
  int replications = 40;
  int jobs = 0;        // processes at a time; 0 = one per core
  int probe_tmpl = 0;  // the template of the new session submitted now
  bool progress = false;
};

struct Forecast {
  // Start-up time (model seconds from acceptance) of each snapshot session, by replication; NaN
  // where it failed. Sessions past start-up are not forecast: their rows stay empty.
  std::vector<std::vector<double>> startup;
  std::vector<double> probe;  // the new session's, by replication
};

// Throws std::runtime_error if a replication failed.
Forecast run_forecast(const Scenario& sc, const QueueSnapshot& snap, const ForecastPlan& plan);

}  // namespace stepq::sim
