// The worker loop: what one pool thread does, in simulation and live alike.
//
//   claim the oldest READY step of the pool's kinds → (recheck style: predecessors done?) →
//   run its handler → finish it (complete, fail, or back to WAITING) → repeat;
//   no step: wait for work (notify) or one poll interval (poll).
#pragma once
#include "interfaces.hpp"
#include "scenario.hpp"

namespace stepq {

struct WorkerEnv {
  const Scenario& scenario;
  Queue& queue;
  Clock& clock;
  Services& services;
  Recorder& recorder;
};

// Returns when Clock::wait_for_work says the engine is stopping.
void run_worker(WorkerEnv& env, int pool);

// One claimed step: handler (or the recheck short-cut), then the fenced finish.
void process_step(WorkerEnv& env, int pool, const StepRef& s);

}  // namespace stepq
