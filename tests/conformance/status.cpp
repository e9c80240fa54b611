// Store conformance: what the store reads back — forecasts, the history, the queue state (live
// stores only; harness.hpp).
#include "conformance/harness.hpp"

TEST_CASE("store conformance (" STORE_NAME "): forecasts, the history and the queue state read back what happened") {
  LiveStoreHarness h(conformance_scenario());
  const int front = h.pool("front"), back = h.pool("back");
  const double t0 = live::wall_now();
  h.submit();
  h.submit();
  for (int i = 0; i < 2; ++i) {  // session 0's x and y, then its z: start-up complete
    const auto s = h.q().claim(front);
    require_step(s, 0, i == 0 ? X : Y);
    REQUIRE(h.q().finish(*s, Outcome::completed()));
  }
  const auto z = h.q().claim(back);
  require_step(z, 0, Z);
  REQUIRE(h.q().finish(*z, Outcome::completed()));
  const auto x1 = h.q().claim(front);  // session 1's x, left RUNNING
  require_step(x1, 1, X);

  // Forecasts: session 0 started (by its p95, before its p50 and its queue-blind cost); session 1 not yet.
  const double far = live::wall_now() + 100;
  const std::vector<live::ForecastRecord> rows = {{0, t0, far, far + 1, 200 / kScale, kScale},
                                                  {1, t0, far, far + 1, 200 / kScale, kScale}};
  h.store->record_forecast(rows);
  h.store->record_forecast(rows);  // a repeated forecast is ignored
  const auto f = h.store->status().forecasts;
  CHECK(f.count == 1);
  CHECK(f.within_p95 == 1);
  REQUIRE(f.vs_p50.size() == 1);
  CHECK(f.vs_p50[0] < 0.5);
  REQUIRE(f.vs_queue_blind.size() == 1);
  CHECK(f.vs_queue_blind[0] < 0.5);

  // The history: session 0's three executions, in the order they started; both arrivals; this processor.
  struct Sink : live::HistorySink {
    std::vector<live::History::Execution> e;
    void execution(const live::History::Execution& x) override { e.push_back(x); }
    void restart() override { e.clear(); }
  } sink;
  const live::History hist = h.store->history(t0 - 1, sink);
  REQUIRE(sink.e.size() == 3);
  CHECK(sink.e[0].kind == "a");
  CHECK(sink.e[1].kind == "b");
  CHECK(sink.e[2].kind == "c");
  for (const auto& e : sink.e) {
    CHECK(e.outcome == "completed");
    CHECK(e.ready_at <= e.started_at);
    CHECK(e.started_at <= e.ended_at);
  }
  CHECK(sink.e[2].ready_at >= sink.e[1].ended_at);  // z became READY when y completed
  REQUIRE(hist.arrivals.size() == 2);
  CHECK(hist.arrivals[0] >= t0);
  REQUIRE(hist.processors.size() == 1);
  CHECK(hist.processors[0].pools == "all");
  Sink later;
  CHECK(h.store->history(live::wall_now() + 1, later).arrivals.empty());  // nothing since then
  CHECK(later.e.empty());

  // The queue state: only session 1 is ACTIVE, its x RUNNING, y READY, z DORMANT.
  const live::QueueState q = h.store->queue_state();
  CHECK(q.next_id == 2);
  REQUIRE(q.sessions.size() == 1);
  const auto& s1 = q.sessions[0];
  CHECK(s1.id == 1);
  CHECK(s1.tmpl == "t");
  CHECK(std::isnan(s1.started_at));
  REQUIRE(s1.steps.size() == 3);
  CHECK(s1.steps[X].phase == static_cast<int>(Phase::RUNNING));
  CHECK(s1.steps[X].claimed_at >= s1.steps[X].ready_at);
  CHECK(s1.steps[Y].phase == static_cast<int>(Phase::READY));
  CHECK(s1.steps[Z].phase == static_cast<int>(Phase::DORMANT));
  CHECK(s1.steps[Z].kind == "c");
  CHECK(q.now >= s1.steps[X].claimed_at);
  REQUIRE(q.running_pools.size() == 1);
  CHECK(q.running_pools[0] == "all");
}
