#include "model_services.hpp"

#include <cstdio>

#include "rng.hpp"
#include "scenario.hpp"

namespace stepq {

OpResult ModelServices::operate(const StepContext& c) {
  Stream rng = step_stream(c.session_key, c.ref.step, c.ref.attempt);
  const Dist& d = c.step.service_s ? *c.step.service_s : c.kind.service_s;
  // Draw both numbers before sleeping, so the failure draw never depends on timing.
  const double service = d.sample(rng);
  const bool fails = rng.uniform() < c.kind.retry.failure_probability;
  if (service > 0) clock_.sleep_for(service);
  if (c.kind.transfer && c.step.bytes > 0) transfer(c, c.step.bytes);
  if (fails) {
    char why[96];
    std::snprintf(why, sizeof why, "sampled failure (failure_probability %g)", c.kind.retry.failure_probability);
    return {false, false, why};
  }
  return {};
}

OpResult ModelServices::poll(const StepContext& c) {
  // The external thing (say, a Skaha session) becomes ready a sampled time after the poll step's
  // predecessors completed; that time is drawn once per step, whatever the number of polls.
  Stream ready_rng = step_stream(c.session_key, c.ref.step, c.ref.attempt, Purpose::ready_after);
  const double ready_at = c.ref.activated_at + c.kind.poll->ready_after_s.sample(ready_rng);
  OpResult r = operate(c);  // the status call itself
  if (r.ok) r.ready = clock_.now() >= ready_at;
  return r;
}

void ModelServices::transfer(const StepContext& c, double bytes) {
  if (const LinkSpec* l = c.scenario.link_between(c.kind.transfer->from, c.kind.transfer->to))
    clock_.sleep_for(l->latency_s + bytes / l->bandwidth_Bps);
}

}  // namespace stepq
