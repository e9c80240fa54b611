#include "worker.hpp"

#include "handlers.hpp"
#include "rng.hpp"

namespace stepq {

void process_step(WorkerEnv& env, int pool, const StepRef& s) {
  const Scenario& sc = env.scenario;
  const double started = env.clock.now();
  env.recorder.claimed(pool, s, started - s.ready_at);
  Outcome o;
  if (sc.dispatch.dependencies == DispatchSpec::Dependencies::recheck && !env.queue.predecessors_done(s)) {
    o = Outcome::requeue(sc.dispatch.recheck_s);  // what the broker does today: look again later
  } else {
    const StepContext ctx{sc, sc.kinds[s.kind], sc.templates[s.tmpl].steps[s.step], s, session_key(sc.seed, s.session)};
    o = run_handler(ctx, env.services);
  }
  const double busy = env.clock.now() - started;
  const bool applied = env.queue.finish(s, o);
  env.recorder.ran(pool, s, busy, o, applied);
}

void run_worker(WorkerEnv& env, int pool) {
  for (;;) {
    if (auto s = env.queue.claim(pool)) {
      process_step(env, pool, *s);
      continue;
    }
    env.recorder.empty_claim(pool);
    if (!env.clock.wait_for_work(pool)) return;
  }
}

}  // namespace stepq
