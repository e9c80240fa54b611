// Services whose costs come from the scenario's distributions: the simulator's platform, and the
// live `emulated` platform. Each operation sleeps a sampled service time on the Clock, moves the
// step's bytes (transfer kinds; a ReadOnly data item is linked, not copied), and fails with the
// kind's failure probability. Every draw comes from the step's own stream (session, step,
// attempt), so both modes see the same workload. The clusters and storage quotas are a Capacity:
// launch submits the session's request, poll sees it Pending until admitted and Running
// `ready_after_s` later, delete gives the cores back, storage reserves space, cleanup frees it.
// A transfer item copies from the replica Scenario::source picks (none when one is local); a
// kind with a `rule` only submits it, and a poll that watches rules is ready when they are done.
#pragma once
#include "dist.hpp"
#include "interfaces.hpp"

namespace stepq {

class ModelServices : public Services {
 public:
  // `capacity` may be null for scenarios without clusters or storage areas; `transfers` for
  // scenarios without rules (transfers then take their time alone: no sharing, no FTS cap).
  ModelServices(Clock& clock, Capacity* capacity, Transfers* transfers = nullptr)
      : clock_(clock), capacity_(capacity), transfers_(transfers) {}

  OpResult pull_image(const StepContext& c) override { return operate(c); }
  OpResult allocate_storage(const StepContext& c) override;
  OpResult stage_data(const StepContext& c) override { return operate(c); }
  OpResult launch(const StepContext& c) override;
  OpResult work(const StepContext& c) override { return operate(c); }
  OpResult poll(const StepContext& c) override;
  OpResult remove(const StepContext& c) override;
  OpResult cleanup(const StepContext& c) override;
  OpResult pushback(const StepContext& c) override { return operate(c); }
  OpResult extend_lease(const StepContext& c) override;

 protected:
  // What a forecast conditions on what the live queue has shown (sim/forecast.cpp): the service
  // time of a step, how long after activation a poll step's thing becomes ready, and the bytes a
  // copy has still to move.
  virtual double service_time(const StepContext&, const Dist& d, Stream& rng) { return d.sample(rng); }
  virtual double ready_time(const StepContext& c, Stream& rng);
  // The bytes a copy moves (a forecast resumes a copy with what was left of it).
  virtual double bytes_to_move(const StepContext&, double bytes) { return bytes; }

  Clock& clock_;
  Capacity* capacity_;
  Transfers* transfers_;

 private:
  OpResult operate(const StepContext& c);
  void move(const StepContext& c, int route, double bytes);  // on the calling thread
};

}  // namespace stepq
