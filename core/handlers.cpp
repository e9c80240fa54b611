#include "handlers.hpp"

#include "scenario.hpp"

namespace stepq {

Outcome after_failure(const KindSpec& kind, int attempt, std::string reason) {
  if (attempt >= kind.retry.max_attempts)
    return Outcome::failed(kind.name + " failed after " + std::to_string(attempt) + " attempt" +
                           (attempt == 1 ? "" : "s") + ": " + reason);
  return Outcome::retry(kind.retry.backoff_before(attempt + 1), std::move(reason));
}

Outcome run_handler(const StepContext& c, Services& s) {
  OpResult r;
  switch (c.kind.op) {
    case Op::image: r = s.pull_image(c); break;
    case Op::storage: r = s.allocate_storage(c); break;
    case Op::data: r = s.stage_data(c); break;
    case Op::launch: r = s.launch(c); break;
    case Op::work: r = s.work(c); break;
    case Op::remove: r = s.remove(c); break;
    case Op::cleanup: r = s.cleanup(c); break;
    case Op::pushback: r = s.pushback(c); break;
    case Op::poll: r = s.poll(c); break;
    case Op::extend: r = s.extend_lease(c); break;
  }
  // Not ready yet: go back to WAITING, holding no thread, until the next poll or try.
  if (r.ok && !r.ready) return Outcome::requeue(c.kind.poll ? c.kind.poll->interval_s : r.again_s);
  if (!r.ok && r.give_up)
    return Outcome::failed(c.kind.name + " failed (not retried: the answer would be the same): " + r.reason);
  if (!r.ok) return after_failure(c.kind, c.ref.attempt, std::move(r.reason));
  Outcome done = Outcome::completed();
  done.reason = std::move(r.reason);  // what a completed call found (an image's digest): the execution log keeps it
  return done;
}

}  // namespace stepq
