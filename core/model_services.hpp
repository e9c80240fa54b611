// Services whose costs come from the scenario's distributions: the simulator's platform, and the
// live `emulated` platform. Each operation sleeps a sampled service time on the Clock, moves the
// step's bytes (transfer kinds), and fails with the kind's failure probability. Every draw comes
// from the step's own stream (session, step, attempt), so both modes see the same workload.
#pragma once
#include "interfaces.hpp"

namespace stepq {

class ModelServices : public Services {
 public:
  explicit ModelServices(Clock& clock) : clock_(clock) {}

  OpResult pull_image(const StepContext& c) override { return operate(c); }
  OpResult allocate_storage(const StepContext& c) override { return operate(c); }
  OpResult stage_data(const StepContext& c) override { return operate(c); }
  OpResult launch(const StepContext& c) override { return operate(c); }
  OpResult work(const StepContext& c) override { return operate(c); }
  OpResult poll(const StepContext& c) override;

 protected:
  // Moves bytes between two platform hosts. The simulator shares link bandwidth (SimGrid);
  // the default sleeps latency + bytes/bandwidth.
  virtual void transfer(const StepContext& c, double bytes);
  Clock& clock_;

 private:
  OpResult operate(const StepContext& c);
};

}  // namespace stepq
