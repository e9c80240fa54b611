#include "model_services.hpp"

#include <cstdio>
#include <stdexcept>

#include "rng.hpp"
#include "scenario.hpp"

namespace stepq {

OpResult ModelServices::operate(const StepContext& c) {
  if (c.scenario.absent(c.step, c.session_key)) return {true, true, "absent: this session has fewer copies"};
  Stream rng = step_stream(c.session_key, c.ref.step, c.ref.attempt);
  const Dist& d = c.step.service_s ? *c.step.service_s : c.kind.service_s;
  // Draw both numbers before sleeping, so the failure draw never depends on timing.
  const double service = service_time(c, d, rng);
  const bool fails = rng.uniform() < c.kind.retry.failure_probability;
  if (service > 0) clock_.sleep_for(service);
  OpResult done;
  const bool copied = !(c.kind.op == Op::data && c.step.mount == Mount::read_only);  // ReadOnly: linked
  Scenario::Source src;
  if (c.kind.transfer && copied) {
    src = c.scenario.source(c.ref.tmpl, c.ref.step, c.session_key);
    if (src.route < 0) {
      done.reason = "local replica at " + src.host + ": located and bind-mounted read-only";
      if (transfers_ && !fails) transfers_->located(c);
    } else if (!c.kind.rule && src.bytes > 0) move(c, src.route, src.bytes);
  }
  if (fails) {
    char why[96];
    std::snprintf(why, sizeof why, "sampled failure (failure_probability %g)", c.kind.retry.failure_probability);
    return {false, false, why};
  }
  if (c.kind.rule && src.route >= 0 && src.bytes > 0) {  // the rule is accepted; its bytes move later
    if (!transfers_) throw std::logic_error("a rule needs a platform that models transfers");
    Stream delay = step_stream(c.session_key, c.ref.step, c.ref.attempt, Purpose::rule);
    transfers_->start_rule(c, src.route, src.bytes, c.kind.rule->delay_s.sample(delay));
  }
  return done;
}

void ModelServices::move(const StepContext& c, int route, double bytes) {
  bytes = bytes_to_move(c, bytes);
  if (transfers_) transfers_->transfer(c, route, bytes);
  else clock_.sleep_for(c.scenario.platform.routes[route].time_alone(bytes));
}

double ModelServices::ready_time(const StepContext& c, Stream& rng) { return c.kind.poll->ready_after_s.sample(rng); }

OpResult ModelServices::poll(const StepContext& c) {
  // The external thing (say, a Skaha session) becomes ready a sampled time after the poll step's
  // predecessors completed or, on a cluster, after the session was admitted; that time is drawn
  // once per step, whatever the number of polls.
  Stream ready_rng = step_stream(c.session_key, c.ref.step, c.ref.attempt, Purpose::ready_after);
  const double ready_after = ready_time(c, ready_rng);
  OpResult r = operate(c);  // the status call itself
  if (!r.ok) return r;
  if (c.kind.poll->watch_rules) {  // ready when every rule it waits for has moved its bytes
    for (int p : c.scenario.templates[c.ref.tmpl].preds(c.ref.step))
      if (c.scenario.kinds[c.scenario.templates[c.ref.tmpl].steps[p].kind].rule && !transfers_->rule_done(c, p))
        r.ready = false;
    return r;
  }
  if (!c.scenario.templates[c.ref.tmpl].clustered()) {
    r.ready = clock_.now() >= c.ref.activated_at + ready_after;
    return r;
  }
  const Capacity::Compute s = capacity_->compute(c);
  if (!s.admitted_at) {  // Pending: until the cluster admits it, or the broker gives up
    const ClusterSpec& cl = c.scenario.platform.clusters[c.scenario.templates[c.ref.tmpl].session->cluster];
    r.ready = false;
    if (s.submitted && clock_.now() - s.submitted_at > cl.max_pending_s) {
      char why[160];
      std::snprintf(why, sizeof why, "cluster %s: Pending for more than max_pending_s (%g s)", cl.name.c_str(),
                    cl.max_pending_s);
      return {false, false, why, 0};
    }
    return r;
  }
  r.ready = clock_.now() >= *s.admitted_at + ready_after;
  if (r.ready) capacity_->running(c, *s.admitted_at + ready_after);
  return r;
}

OpResult ModelServices::launch(const StepContext& c) {
  OpResult r = operate(c);  // the API call
  if (r.ok && c.scenario.templates[c.ref.tmpl].clustered()) r = capacity_->submit(c);
  return r;
}

OpResult ModelServices::extend_lease(const StepContext& c) {
  OpResult r = operate(c);  // the API call (Rucio: PUT /rules/{id} with a new lifetime)
  if (r.ok) r.ready = false, r.again_s = c.scenario.templates[c.ref.tmpl].lease->every_s;
  return r;
}

OpResult ModelServices::allocate_storage(const StepContext& c) {
  OpResult r = operate(c);
  if (!r.ok || c.step.area < 0 || capacity_->reserve(c)) return r;
  const StorageArea& area = c.scenario.platform.areas[c.step.area];
  if (area.when_full == StorageArea::WhenFull::fail)
    return {false, false, "storage area '" + area.name + "' is full", 0};
  if (clock_.now() - c.ref.activated_at < area.max_wait_s) return {true, false, {}, area.recheck_s};
  char why[160];
  std::snprintf(why, sizeof why, "storage area '%s' still full after max_wait_s (%g s)", area.name.c_str(),
                area.max_wait_s);
  return {false, false, why, 0};
}

OpResult ModelServices::remove(const StepContext& c) {
  OpResult r = operate(c);
  if (r.ok && c.scenario.templates[c.ref.tmpl].clustered()) capacity_->release_compute(c);
  return r;
}

OpResult ModelServices::cleanup(const StepContext& c) {
  OpResult r = operate(c);
  if (r.ok && capacity_) capacity_->free_temp(c);
  return r;
}

}  // namespace stepq
