// Store conformance: the cluster, the release plan and the shared network kept in the database
// (live stores only; harness.hpp).
#include "conformance/harness.hpp"

// ---- live stores only: the cluster and the release plan kept in the database -----------------------

namespace {

StepContext context(const Scenario& sc, std::uint64_t session, int step, StepRef& ref) {
  ref.session = session;
  ref.tmpl = 0;
  ref.step = step;
  ref.kind = sc.templates[0].steps[step].kind;
  return StepContext{sc, sc.kinds[ref.kind], sc.templates[0].steps[step], ref, session_key(sc.seed, session)};
}

}  // namespace

TEST_CASE("capacity conformance (" STORE_NAME "): launches and deletes admit sessions as core/cluster.hpp does") {
  for (const char* admission : {"fifo", "backfill"}) {
    INFO("admission " << admission);
    LiveStoreHarness h(cluster_scenario(admission));
    const Scenario& sc = h.sc;
    const int n = 12;
    for (int i = 0; i < n; ++i) h.submit();
    // The same requests, through the reference.
    ClusterState ref(sc.platform.clusters[0], sc.arrivals.users->count);
    std::set<std::uint64_t> placed, deleted;
    auto same = [&](const char* when) {
      for (const auto& p : ref.admit()) placed.insert(p.id);
      for (int i = 0; i < n; ++i) {
        if (deleted.count(i)) continue;  // it was admitted once, and says so
        StepRef r;
        const auto ctx = context(sc, i, 2, r);
        INFO(when << ": session " << i);
        CHECK(h.store->compute(ctx).admitted_at.has_value() == (placed.count(i) == 1));
      }
    };
    int refused = 0;
    for (int i = 0; i < n; ++i) {
      StepRef r;
      const auto d = live::draw_session(sc, 0, i);
      const bool ok = ref.submit({static_cast<std::uint64_t>(i), d.cores, d.memory_GB, d.owner});
      const OpResult got = h.store->submit(context(sc, i, 1, r));
      INFO("session " << i << " of user " << d.owner << " asks " << d.cores << " cores");
      CHECK(got.ok == ok);
      if (!ok) {
        CHECK_THAT(got.reason, Catch::Contains("user_limit"));
        ++refused;
      }
      CHECK(h.store->submit(context(sc, i, 1, r)).ok == ok);  // again: nothing changes
    }
    CHECK(refused > 0);
    same("after the launches");
    // Deletes in an order that frees the 4-core node first, then one queued session leaves.
    for (std::uint64_t i : {0, 2, 5, 7}) {
      StepRef r;
      h.store->release_compute(context(sc, i, 3, r));
      h.store->release_compute(context(sc, i, 3, r));  // idempotent
      ref.release(i);
      placed.erase(i);
      deleted.insert(i);
      same("after a delete");
    }
  }
}

TEST_CASE("lifecycle conformance (" STORE_NAME
          "): release steps start when the run is over, give back, then end the session") {
  LiveStoreHarness h(cluster_scenario("fifo"));
  const Scenario& sc = h.sc;
  const int store = 0, launch = 1, poll = 2, del = 3, clean = 4;  // pools: one per kind
  h.submit();
  auto s = h.q().claim(store);
  require_step(s, 0, 0);
  REQUIRE(h.store->reserve(context(sc, 0, 0, *s)));
  REQUIRE(h.q().finish(*s, Outcome::completed()));
  h.submit();  // a second session's storage fits (8 of 10), a third's does not
  auto s1 = h.q().claim(store);
  REQUIRE(h.store->reserve(context(sc, 1, 0, *s1)));
  h.submit();
  auto s2 = h.q().claim(store);
  require_step(s2, 2, 0);
  REQUIRE_FALSE(h.store->reserve(context(sc, 2, 0, *s2)));  // 12 > 10: full
  auto l = h.q().claim(launch);
  require_step(l, 0, 1);
  REQUIRE(h.store->submit(context(sc, 0, 1, *l)).ok);
  REQUIRE(h.q().finish(*l, Outcome::completed()));
  auto p = h.q().claim(poll);
  require_step(p, 0, 2);
  const auto st = h.store->compute(context(sc, 0, 2, *p));
  REQUIRE(st.submitted);
  REQUIRE(st.admitted_at.has_value());
  h.store->running(context(sc, 0, 2, *p), *st.admitted_at);
  // Start-up over: the session runs 30 s (0.3 s of wall time: a window that holds on a loaded
  // machine, where 5 s, 50 ms, once did not).
  REQUIRE(h.q().finish(*p, Outcome::completed()));
  REQUIRE_FALSE(h.q().claim(del));
  h.advance(2);
  REQUIRE_FALSE(h.q().claim(del));  // not yet
  h.advance(30);
  auto d = h.q().claim(del);
  require_step(d, 0, 3);
  h.store->release_compute(context(sc, 0, 3, *d));
  REQUIRE(h.q().finish(*d, Outcome::completed()));
  auto c = h.q().claim(clean);
  require_step(c, 0, 4);
  h.store->free_temp(context(sc, 0, 4, *c));
  REQUIRE(h.store->reserve(context(sc, 2, 0, *s2)));  // the WriteTemp space came back
  REQUIRE(h.q().finish(*c, Outcome::completed()));
  const auto status = h.store->status();
  REQUIRE(status.sessions[1].first == "COMPLETED");
  REQUIRE(status.sessions[1].second == 1);
  REQUIRE(status.startup_s.count() == 1);
  // A session that fails gives back by the same release steps, then ends FAILED.
  REQUIRE(h.q().finish(*s1, Outcome::failed("broken")));
  auto d1 = h.q().claim(del);
  require_step(d1, 1, 3);
  REQUIRE(h.q().finish(*d1, Outcome::completed()));
  auto c1 = h.q().claim(clean);
  require_step(c1, 1, 4);
  REQUIRE(h.q().finish(*c1, Outcome::completed()));
  const auto after = h.store->status();
  REQUIRE(after.sessions[2].first == "FAILED");
  REQUIRE(after.sessions[2].second == 1);
  REQUIRE(after.sessions[0].second == 1);  // session 2 still ACTIVE
}

TEST_CASE("store conformance (" STORE_NAME "): with_links keeps one network for every connection") {
  const Scenario sc = one_link_scenario();
  LiveStoreHarness h(sc);
  auto other = h.open();
  other->bind(h.sc, kScale);
  double t = 0;
  std::int64_t first = 0;
  h.store->with_links([&](FluidLinks& n) {
    REQUIRE(n.transfers().empty());
    t = std::max(n.clock(), live::wall_now());
    n.advance(t);
    first = n.add(0, 0, 1, 0, 1e8, t);
  });
  other->with_links([&](FluidLinks& n) {  // the other connection sees it, and queues behind it
    REQUIRE(n.transfers().size() == 1);
    CHECK(n.transfers()[0].id == first);
    CHECK(n.transfers()[0].left == Approx(1e8));
    n.advance(t);
    CHECK(n.add(0, 0, 1, 0, 1e8, t) == first);  // the same step and attempt: no second copy
    const std::int64_t second = n.add(1, 0, 1, 0, 1e8, t);
    CHECK(second != first);
    n.advance(t);
    CHECK(n.moving(1, 0));
  });
  h.store->with_links([&](FluidLinks& n) {
    REQUIRE(n.transfers().size() == 2);
    n.advance(t + 1.5 * kScale);  // the first is done after one model second, the second has its slot
    CHECK_FALSE(n.moving(0, 0));
    CHECK(n.moving(1, 0));
  });
  other->with_links([&](FluidLinks& n) {  // a done transfer is no longer handed out
    REQUIRE(n.transfers().size() == 1);
    CHECK(n.transfers()[0].session == 1);
    CHECK(n.transfers()[0].started_at >= t + kScale - 1e-9);  // it got the slot when the first finished
    CHECK(n.transfers()[0].left < 1e8);
  });
}
