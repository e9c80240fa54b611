// Store conformance: processors and operators — cancel, the reaper, a graceful release, what
// other connections changed (live stores only; harness.hpp).
#include "conformance/harness.hpp"

// ---- live stores only: processors and operators ------------------------------------------------------

TEST_CASE("queue conformance (" STORE_NAME "): an operator's cancel ends the session and fences its running step") {
  LiveStoreHarness h(conformance_scenario());
  const int front = h.pool("front");
  h.submit();
  h.submit();
  const auto x = h.q().claim(front);
  require_step(x, 0, X);
  const auto c = h.store->cancel_session(0);
  REQUIRE(c.what == live::CancelResult::What::cancelled);
  REQUIRE(c.steps == 3);  // x (RUNNING), y (READY), z (DORMANT)
  REQUIRE_FALSE(h.q().finish(*x, Outcome::completed()));
  require_step(h.q().claim(front), 1, X);  // session 0's y is gone
  REQUIRE(h.store->cancel_session(0).what == live::CancelResult::What::already_finished);
  REQUIRE_THROWS_AS(h.store->cancel_session(99), live::StoreError);
}

TEST_CASE("queue conformance (" STORE_NAME
          "): the reaper returns a dead processor's steps as a new attempt, then fails them") {
  LiveStoreHarness h(conformance_scenario());
  const int front = h.pool("front"), back = h.pool("back");
  h.submit();
  const auto x = h.q().claim(front);  // processor A claims x and y, then goes silent
  require_step(x, 0, X);
  require_step(h.q().claim(front), 0, Y);

  auto b = h.open();  // processor B: another connection to the same file, heartbeating
  b->bind(h.sc, kScale);
  b->register_processor("other", 1, "all");
  const double lease = 0.05;
  std::this_thread::sleep_for(std::chrono::duration<double>(lease * 2));
  b->heartbeat();
  REQUIRE(b->reap(lease) == 2);
  const auto x2 = b->claim(front);
  require_step(x2, 0, X);
  REQUIRE(x2->attempt == 2);                              // the lost run counted as an attempt
  REQUIRE_FALSE(h.q().finish(*x, Outcome::completed()));  // A's late finish is fenced off
  REQUIRE_FALSE(h.store->heartbeat());                    // A learns it was declared dead

  // B dies too while running x's attempt 2 of 2: x FAILED, the session FAILED, y (READY again)
  // and z CANCELLED.
  auto c = h.open();
  c->bind(h.sc, kScale);
  c->register_processor("third", 2, "all");
  std::this_thread::sleep_for(std::chrono::duration<double>(lease * 2));
  c->heartbeat();
  REQUIRE(c->reap(lease) == 1);
  REQUIRE_FALSE(c->claim(front));
  REQUIRE_FALSE(c->claim(back));
  const auto st = c->status();
  REQUIRE(st.sessions[2].first == "FAILED");
  REQUIRE(st.sessions[2].second == 1);
  REQUIRE(st.failure_reasons.size() == 1);
  REQUIRE_THAT(st.failure_reasons[0].first, Catch::Contains("no attempts left"));
}

TEST_CASE("store conformance (" STORE_NAME "): release_running gives a claim back as the same attempt") {
  LiveStoreHarness h(conformance_scenario());
  const int front = h.pool("front");
  h.submit();
  const auto x = h.q().claim(front);
  require_step(x, 0, X);
  REQUIRE(h.store->release_running() == 1);
  REQUIRE_FALSE(h.q().finish(*x, Outcome::completed()));  // its lease went with it
  const auto y = h.q().claim(front);                      // y was READY before x came back
  require_step(y, 0, Y);
  const auto again = h.q().claim(front);
  require_step(again, 0, X);
  REQUIRE(again->attempt == x->attempt);  // a graceful stop is not a failed attempt
  REQUIRE(again->fence != x->fence);
}

TEST_CASE("store conformance (" STORE_NAME "): changes_elsewhere sees another connection's commits, once") {
  LiveStoreHarness h(conformance_scenario());
  const int front = h.pool("front"), back = h.pool("back");
  // Until something is committed elsewhere there is nothing to report; the first look may still
  // report this store's own set-up.
  h.store->changes_elsewhere();
  auto other = h.open();
  other->bind(h.sc, kScale);
  other->register_processor("other", getpid(), "all");
  h.store->changes_elsewhere();  // the other connection's own set-up
  REQUIRE_FALSE(h.store->changes_elsewhere().any);
  other->submit_session();  // x and y READY (pool front), z DORMANT (pool back)
  // PostgreSQL's notifications arrive asynchronously: look for up to 5 s.
  live::LiveStore::Elsewhere e;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!(e = h.store->changes_elsewhere()).any && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(e.any);
  REQUIRE(e.ready.size() == h.sc.pools.size());
  CHECK(e.ready[front]);
  CHECK_FALSE(e.ready[back]);
  REQUIRE_FALSE(h.store->changes_elsewhere().any);  // reported once
  // What this store sees is what the other committed: the claim finds x.
  require_step(h.q().claim(front), 0, X);
}
