// Store conformance: the queue — claims in order, activation, fencing, waits (harness.hpp).
#include "conformance/harness.hpp"

QUEUE_CASE(claim_order, "a pool claims the oldest READY step among its kinds, once", false) {
  const int front = h.pool("front"), back = h.pool("back");
  REQUIRE_FALSE(h.q().claim(front));
  h.submit();
  h.advance(1);
  h.submit();
  require_step(h.q().claim(front), 0, X);
  require_step(h.q().claim(front), 0, Y);
  require_step(h.q().claim(front), 1, X);
  require_step(h.q().claim(front), 1, Y);
  REQUIRE_FALSE(h.q().claim(front));  // each READY step is claimed once
  REQUIRE_FALSE(h.q().claim(back));   // z waits for x and y: DORMANT, not READY
}

QUEUE_CASE(activation, "completing the last predecessor makes a step READY, at that time", false) {
  const int front = h.pool("front"), back = h.pool("back");
  h.submit();
  const auto x = h.q().claim(front);
  const auto y = h.q().claim(front);
  require_step(x, 0, X);
  require_step(y, 0, Y);
  REQUIRE(x->attempt == 1);
  h.advance(2);
  REQUIRE(h.q().finish(*x, Outcome::completed()));
  REQUIRE_FALSE(h.q().claim(back));  // y is not complete yet
  h.advance(3);
  const double done = h.now();
  REQUIRE(h.q().finish(*y, Outcome::completed()));
  const auto z = h.q().claim(back);
  require_step(z, 0, Z);
  REQUIRE(z->activated_at >= x->ready_at + 4.9);  // activated by y's completion, not x's
  REQUIRE(z->activated_at == Approx(done).margin(0.5));
  REQUIRE(z->ready_at == Approx(z->activated_at).margin(1e-6));
  REQUIRE(h.q().finish(*z, Outcome::completed()));
  REQUIRE_FALSE(h.q().claim(front));
  REQUIRE_FALSE(h.q().claim(back));
}

QUEUE_CASE(fencing, "a final failure cancels the session, a running step of it loses its lease", false) {
  const int front = h.pool("front"), back = h.pool("back");
  h.submit();
  h.submit();
  const auto x = h.q().claim(front);
  const auto y = h.q().claim(front);
  require_step(x, 0, X);
  require_step(y, 0, Y);
  REQUIRE(h.q().finish(*y, Outcome::failed("broken")));
  // x was RUNNING when its session failed: its result is dropped, and z never becomes READY.
  REQUIRE_FALSE(h.q().finish(*x, Outcome::completed()));
  REQUIRE_FALSE(h.q().claim(back));
  // The other session is untouched.
  require_step(h.q().claim(front), 1, X);
  require_step(h.q().claim(front), 1, Y);
  REQUIRE_FALSE(h.q().claim(front));
}

QUEUE_CASE(promotion,
           "a step sent back to WAITING is READY again when due: requeue keeps the attempt, retry counts one", false) {
  const int front = h.pool("front");
  h.submit();
  const auto x = h.q().claim(front);
  require_step(x, 0, X);
  const double t0 = h.now();
  REQUIRE(h.q().finish(*x, Outcome::requeue(10)));
  require_step(h.q().claim(front), 0, Y);  // x is WAITING, not READY
  REQUIRE_FALSE(h.q().claim(front));
  h.advance(5);
  REQUIRE_FALSE(h.q().claim(front));  // not due yet
  h.advance(6);
  const auto again = h.q().claim(front);
  require_step(again, 0, X);
  REQUIRE(again->attempt == 1);                             // a poll is not an attempt
  REQUIRE(again->ready_at == Approx(t0 + 10).margin(0.5));  // READY from when it was due
  REQUIRE(again->fence != x->fence);
  REQUIRE_FALSE(h.q().finish(*x, Outcome::completed()));  // the old claim's lease is gone
  REQUIRE(h.q().finish(*again, Outcome::retry(10, "flaky")));
  h.advance(11);
  const auto third = h.q().claim(front);
  require_step(third, 0, X);
  REQUIRE(third->attempt == 2);
}

QUEUE_CASE(recheck, "recheck style: every step READY at accept, predecessors_done tells when to run", true) {
  const int front = h.pool("front"), back = h.pool("back");
  h.submit();
  const auto z = h.q().claim(back);  // READY at once, as the broker does today
  require_step(z, 0, Z);
  REQUIRE_FALSE(h.q().predecessors_done(*z));
  REQUIRE(h.q().finish(*z, Outcome::requeue(5)));
  const auto x = h.q().claim(front);
  const auto y = h.q().claim(front);
  REQUIRE(h.q().finish(*x, Outcome::completed()));
  REQUIRE(h.q().finish(*y, Outcome::completed()));
  h.advance(6);
  const auto z2 = h.q().claim(back);
  require_step(z2, 0, Z);
  REQUIRE(h.q().predecessors_done(*z2));
}
