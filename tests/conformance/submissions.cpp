// Store conformance: submissions — batches, live submissions and idle (live stores only;
// harness.hpp).
#include "conformance/harness.hpp"

TEST_CASE("store conformance (" STORE_NAME "): a batch submission makes consecutive sessions, each READY as alone") {
  LiveStoreHarness h(conformance_scenario());
  h.submit();
  REQUIRE(h.store->submit_sessions(300) == 1);  // more than one PostgreSQL transaction holds
  REQUIRE(h.store->submit_session() == 301);
  const live::LiveStatus st = h.store->status();
  std::map<std::string, std::uint64_t> sessions(st.sessions.begin(), st.sessions.end());
  CHECK(sessions["ACTIVE"] == 302);
  std::map<std::string, std::array<std::uint64_t, 7>> steps;
  for (const auto& k : st.kinds) steps[k.name] = k.steps;
  CHECK(steps["a"][static_cast<int>(Phase::READY)] == 302);
  CHECK(steps["c"][static_cast<int>(Phase::DORMANT)] == 302);
  const int front = h.pool("front");  // oldest first, then in id order
  require_step(h.q().claim(front), 0, X);
  require_step(h.q().claim(front), 0, Y);
  require_step(h.q().claim(front), 1, X);
}

TEST_CASE("store conformance (" STORE_NAME "): idle waits for live submissions, and status counts what is there") {
  LiveStoreHarness h(conformance_scenario());
  REQUIRE(h.store->idle(1));
  const auto sub = h.store->begin_submission(2);
  REQUIRE_FALSE(h.store->idle(1));  // a submission is under way: more may come
  h.submit();
  h.submit();
  h.store->submission_progress(sub, 2, true);
  REQUIRE_FALSE(h.store->idle(1));  // two sessions are ACTIVE
  const auto x = h.q().claim(h.pool("front"));
  require_step(x, 0, X);
  const live::LiveStatus st = h.store->status();
  std::map<std::string, std::uint64_t> sessions(st.sessions.begin(), st.sessions.end());
  CHECK(sessions["ACTIVE"] == 2);
  CHECK(sessions["COMPLETED"] == 0);
  std::map<std::string, std::array<std::uint64_t, 7>> steps;
  for (const auto& k : st.kinds) steps[k.name] = k.steps;
  CHECK(steps["a"][static_cast<int>(Phase::RUNNING)] == 1);  // x
  CHECK(steps["a"][static_cast<int>(Phase::READY)] == 1);    // session 1's x
  CHECK(steps["c"][static_cast<int>(Phase::DORMANT)] == 2);  // both z
  CHECK(st.submissions_active == 0);
  REQUIRE(st.processors.size() == 1);
  CHECK(st.processors[0].running == 1);
  h.store->stop_processor("a test");
  const live::LiveStatus after = h.store->status();
  REQUIRE(after.processors.size() == 1);
  CHECK(after.processors[0].stopped_at.has_value());
  CHECK(after.processors[0].stop_reason == "a test");
}

TEST_CASE("store conformance (" STORE_NAME "): a batch stores the same sessions as submissions one at a time") {
  // Sessions drawn per session (cores, owner) on a cluster, admitted at submission.
  const Scenario sc = cluster_scenario("fifo");
  LiveStoreHarness one(sc), batch(sc);
  for (int i = 0; i < 40; ++i) one.store->submit_session();
  REQUIRE(batch.store->submit_sessions(40) == 0);
  const auto a = one.store->queue_state(), b = batch.store->queue_state();
  REQUIRE(a.sessions.size() == 40);
  REQUIRE(b.sessions.size() == a.sessions.size());
  CHECK(b.next_id == a.next_id);
  for (std::size_t i = 0; i < a.sessions.size(); ++i) {
    const auto &x = a.sessions[i], &y = b.sessions[i];
    INFO("session " << x.id);
    CHECK(y.id == x.id);
    CHECK(y.tmpl == x.tmpl);
    CHECK(y.compute == x.compute);
    CHECK(y.cores == x.cores);
    CHECK(y.memory_GB == x.memory_GB);
    CHECK(y.owner == x.owner);
    CHECK(y.node == x.node);
    REQUIRE(y.steps.size() == x.steps.size());
    for (std::size_t n = 0; n < x.steps.size(); ++n) {
      INFO("step " << n);
      CHECK(y.steps[n].num == x.steps[n].num);
      CHECK(y.steps[n].phase == x.steps[n].phase);
      CHECK(y.steps[n].kind == x.steps[n].kind);
      CHECK(y.steps[n].attempt == x.steps[n].attempt);
      CHECK(std::isnan(y.steps[n].ready_at) == std::isnan(x.steps[n].ready_at));
    }
  }
  // The batch's sessions draw different sizes: the comparison is not of identical sessions.
  std::set<double> cores;
  for (const auto& s : a.sessions) cores.insert(s.cores);
  CHECK(cores.size() == 3);
}
