// Store conformance: what the store reads back — forecasts, the history, the queue state, and the
// status from its cache of sealed sessions (live stores only; harness.hpp).
#include "conformance/harness.hpp"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "backends/live/engine.hpp"
#include "core/model_services.hpp"

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

// ---- the status cache: a summary of sealed sessions (backends/live/status_summary.hpp) -------------

namespace {

void same_histogram(const Histogram& a, const Histogram& b, const char* what) {
  INFO(what);
  CHECK(a.count() == b.count());
  CHECK(a.min() == b.min());
  CHECK(a.max() == b.max());
  CHECK(a.mean() == Approx(b.mean()).epsilon(1e-12));  // sums in another order
  for (double q : {0.0, 0.5, 0.95, 0.99, 1.0}) CHECK(a.quantile(q) == b.quantile(q));
}

std::vector<double> sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Every field of two statuses of one state of the database: `cached` from the summary and the rows
// beyond it, `scratch` from every row.
void same_status(const live::LiveStatus& cached, const live::LiveStatus& scratch) {
  CHECK(cached.now == scratch.now);
  CHECK(cached.sessions == scratch.sessions);
  REQUIRE(cached.kinds.size() == scratch.kinds.size());
  for (std::size_t k = 0; k < cached.kinds.size(); ++k) {
    const auto &a = cached.kinds[k], &b = scratch.kinds[k];
    INFO("kind " << b.name);
    CHECK(a.name == b.name);
    CHECK(a.steps == b.steps);
    CHECK(a.executions == b.executions);
    CHECK(a.lost == b.lost);
    CHECK(a.reaped == b.reaped);
    CHECK(a.retries == b.retries);
    same_histogram(a.wait_s, b.wait_s, "wait_s");
    same_histogram(a.service_s, b.service_s, "service_s");
  }
  same_histogram(cached.startup_s, scratch.startup_s, "startup_s");
  REQUIRE(cached.processors.size() == scratch.processors.size());
  for (std::size_t p = 0; p < cached.processors.size(); ++p) {
    CHECK(cached.processors[p].id == scratch.processors[p].id);
    CHECK(cached.processors[p].running == scratch.processors[p].running);
  }
  CHECK(cached.failure_reasons == scratch.failure_reasons);
  CHECK(cached.submissions_active == scratch.submissions_active);
  REQUIRE(cached.links.size() == scratch.links.size());
  for (const auto& b : scratch.links) {  // by name: the order first seen may differ
    const auto a =
        std::find_if(cached.links.begin(), cached.links.end(), [&](const auto& l) { return l.name == b.name; });
    REQUIRE(a != cached.links.end());
    CHECK(a->transfers == b.transfers);
    CHECK(a->moving == b.moving);
    CHECK(a->waiting == b.waiting);
    CHECK(a->bytes == Approx(b.bytes).epsilon(1e-12));
    same_histogram(a->transfer_s, b.transfer_s, "transfer_s");
    same_histogram(a->slot_wait_s, b.slot_wait_s, "slot_wait_s");
  }
  CHECK(cached.forecasts.count == scratch.forecasts.count);
  CHECK(cached.forecasts.within_p95 == scratch.forecasts.within_p95);
  CHECK(sorted(cached.forecasts.vs_p50) == sorted(scratch.forecasts.vs_p50));
  CHECK(sorted(cached.forecasts.vs_queue_blind) == sorted(scratch.forecasts.vs_queue_blind));
  // The chart, on the report's own span.
  const auto &x = cached.over_time, &y = scratch.over_time;
  REQUIRE(x.empty() == y.empty());
  CHECK(x.first() == y.first());
  CHECK(x.last() == y.last());
  const LevelSeries a = x.series(y.first(), y.last(), 1), b = y.series(y.first(), y.last(), 1);
  CHECK(a.bin_s == b.bin_s);
  REQUIRE(a.t_s == b.t_s);
  REQUIRE(a.busy.size() == b.busy.size());
  for (std::size_t s = 0; s < a.busy.size(); ++s)
    for (std::size_t k = 0; k < a.t_s.size(); ++k) {
      INFO("series " << s << " bin " << k);
      CHECK(a.busy[s][k] == Approx(b.busy[s][k]).epsilon(1e-12).margin(1e-12));
      CHECK(a.ready[s][k] == Approx(b.ready[s][k]).epsilon(1e-12).margin(1e-12));
    }
}

// The status from the cache (moving it on when it can) beside the one from scratch, at one time.
live::LiveStatus check_cached_status(live::LiveStore& store) {
  store.status_options.now = live::wall_now();
  const live::LiveStatus cached = store.status(), scratch = store.status(live::StatusCache::ignore);
  same_status(cached, scratch);
  store.status_options.now.reset();
  return cached;
}

// A session's three steps run to completion, on a store whose queue holds nothing older.
void complete_session(Harness& h, std::uint64_t session) {
  for (int step : {X, Y, Z}) {
    const auto s = h.q().claim(h.pool(step == Z ? "back" : "front"));
    require_step(s, session, step);
    REQUIRE(h.q().finish(*s, Outcome::completed()));
  }
}

constexpr double kSealAfter = 0.4;  // wall seconds: a session sealed once it ended this long ago

void seal_quickly(live::LiveStore& store) {
  store.status_options.seal_after_s = kSealAfter;
  store.status_options.fold_min = 1;
}

void wait_for_sealing() { std::this_thread::sleep_for(std::chrono::duration<double>(kSealAfter + 0.1)); }

// What the cache's summary says it covers: (frontier, open ids below it), of sessions or transfers.
std::pair<std::int64_t, std::vector<std::int64_t>> covered(LiveHarness& h, const char* what = "sessions") {
  const auto j = nlohmann::json::parse(h.status_cache().second);
  return {j.at(what).at("frontier").get<std::int64_t>(), j.at(what).at("open").get<std::vector<std::int64_t>>()};
}

// Sessions 0-4 with every ending: 0 ACTIVE (its x left running), 1 FAILED while its x runs,
// 2 COMPLETED, 3 CANCELLED, 4 COMPLETED after a retry; forecasts for 2 and 4. Returns 0's and
// 1's running x.
std::pair<StepRef, StepRef> five_sessions(LiveHarness& h) {
  const int front = h.pool("front"), back = h.pool("back");
  const double t0 = live::wall_now();
  for (int i = 0; i < 5; ++i) h.submit();
  REQUIRE(h.store->cancel_session(3).what == live::CancelResult::What::cancelled);
  const auto x0 = h.q().claim(front);
  require_step(x0, 0, X);
  const auto y0 = h.q().claim(front);
  require_step(y0, 0, Y);
  REQUIRE(h.q().finish(*y0, Outcome::completed()));
  const auto x1 = h.q().claim(front);
  require_step(x1, 1, X);
  const auto y1 = h.q().claim(front);
  require_step(y1, 1, Y);
  REQUIRE(h.q().finish(*y1, Outcome::failed("broken")));
  complete_session(h, 2);
  const auto x4 = h.q().claim(front);
  require_step(x4, 4, X);
  REQUIRE(h.q().finish(*x4, Outcome::completed()));
  const auto y4 = h.q().claim(front);
  require_step(y4, 4, Y);
  REQUIRE(h.q().finish(*y4, Outcome::retry(0, "flaky")));
  h.advance(0);
  const auto y4b = h.q().claim(front);
  require_step(y4b, 4, Y);
  REQUIRE(h.q().finish(*y4b, Outcome::completed()));
  const auto z4 = h.q().claim(back);
  require_step(z4, 4, Z);
  REQUIRE(h.q().finish(*z4, Outcome::completed()));
  const double far = live::wall_now() + 100;
  h.store->record_forecast({{2, t0, far, far + 1, 200 / kScale, kScale}, {4, t0, t0 + 0.001, far, 0.5, kScale}});
  return {*x0, *x1};
}

}  // namespace

TEST_CASE("store conformance (" STORE_NAME
          "): the status from the cache of sealed sessions is the status from "
          "scratch, as the cache moves on") {
  LiveStoreHarness h(conformance_scenario());
  seal_quickly(*h.store);
  const auto [x0, x1] = five_sessions(h);
  wait_for_sealing();
  h.submit();
  h.submit();
  complete_session(h, 5);  // ended within the margin: not sealed yet
  // 6: ACTIVE, its x and y READY.

  CHECK(h.status_cache().first == 0);  // nothing stored yet
  const auto first = check_cached_status(*h.store);
  CHECK(first.sessions[1].second == 3);  // COMPLETED: 2, 4 (sealed) and 5
  CHECK(first.kinds[1].retries == 1);
  CHECK(first.forecasts.count == 2);
  CHECK(h.status_cache().first == 1);
  // 2, 3 and 4 sealed; 0 ACTIVE and 1 still running an execution: exceptions below the frontier.
  CHECK(covered(h) == std::make_pair(std::int64_t{4}, std::vector<std::int64_t>{0, 1}));

  // 1's execution ends (its step had been cancelled: the finish changes no step), 0 completes.
  REQUIRE_FALSE(h.q().finish(x1, Outcome::completed()));
  REQUIRE(h.q().finish(x0, Outcome::completed()));
  const auto z0 = h.q().claim(h.pool("back"));
  require_step(z0, 0, Z);
  REQUIRE(h.q().finish(*z0, Outcome::completed()));
  wait_for_sealing();
  check_cached_status(*h.store);  // the second move: 0, 1 and 5 sealed now
  CHECK(h.status_cache().first == 2);
  CHECK(covered(h) == std::make_pair(std::int64_t{5}, std::vector<std::int64_t>{}));
  check_cached_status(*h.store);  // nothing newly sealed: read, not written
  CHECK(h.status_cache().first == 2);
}

TEST_CASE("store conformance (" STORE_NAME "): a cache that cannot be read is summed again from scratch") {
  LiveStoreHarness h(conformance_scenario());
  seal_quickly(*h.store);
  five_sessions(h);
  wait_for_sealing();
  check_cached_status(*h.store);
  const std::string good = h.status_cache().second;
  // Corrupt text, a summary of kinds this database does not have, another version: each time the
  // status is the one from scratch, and the cache is written again whole.
  const std::string bad[] = {"{\"version\": 1, \"sessions\": [", "null",
                             std::string(good).replace(good.find("\"id\":"), 5, "\"id\":9"),
                             std::string(good).replace(good.find("\"version\":1"), 11, "\"version\":7")};
  for (const auto& text : bad) {
    INFO(text.substr(0, 80));
    h.exec("UPDATE status_cache SET summary = '" + text + "'");
    const auto before = h.status_cache().first;
    check_cached_status(*h.store);
    CHECK(h.status_cache().first == before + 1);
    CHECK(covered(h).first == 4);
  }
}

TEST_CASE("store conformance (" STORE_NAME "): two status commands at once leave one correct cache") {
  LiveStoreHarness h(conformance_scenario());
  seal_quickly(*h.store);
  five_sessions(h);
  wait_for_sealing();
  auto a = h.open(), b = h.open();
  seal_quickly(*a);
  seal_quickly(*b);
  live::LiveStatus sa, sb;
  std::thread ta([&] { sa = a->status(); }), tb([&] { sb = b->status(); });
  ta.join();
  tb.join();
  CHECK(sa.sessions == sb.sessions);
  // One of them wrote; the other read the generation before that write, and its write found it
  // gone (or it read after, and had nothing newly sealed to write).
  CHECK(h.status_cache().first == 1);
  CHECK(covered(h) == std::make_pair(std::int64_t{4}, std::vector<std::int64_t>{0, 1}));
  check_cached_status(*h.store);
}

TEST_CASE("store conformance (" STORE_NAME "): transfers are summed into the cache by transfer id once done") {
  const Scenario sc = one_link_scenario();
  LiveStoreHarness h(sc);
  seal_quickly(*h.store);
  double t = 0;
  std::int64_t delayed = 0;
  h.store->with_links([&](FluidLinks& n) {
    t = std::max(n.clock(), live::wall_now());
    n.advance(t);
    delayed = n.add(0, 0, 1, 0, 1e8, t + 1000 * kScale);  // a rule's delay: reaches the link last
    n.add(1, 0, 1, 0, 1e8, t);
    n.add(2, 0, 1, 0, 1e8, t);
  });
  h.store->with_links([&](FluidLinks& n) { n.advance(t + 5 * kScale); });  // the two others done
  const auto first = check_cached_status(*h.store);
  REQUIRE(first.links.size() == 1);
  CHECK(first.links[0].transfers == 2);
  CHECK(covered(h, "transfers") == std::make_pair(std::int64_t{3}, std::vector<std::int64_t>{delayed}));
  h.store->with_links([&](FluidLinks& n) {
    n.advance(t + 1002 * kScale);               // the delayed one done too
    n.add(3, 0, 1, 0, 1e8, t + 1002 * kScale);  // and one moving now
  });
  const auto second = check_cached_status(*h.store);
  CHECK(second.links[0].transfers == 3);
  CHECK(second.links[0].moving == 1);
  CHECK(h.status_cache().first == 2);
  CHECK(covered(h, "transfers") == std::make_pair(std::int64_t{3}, std::vector<std::int64_t>{}));
}

#ifndef STEPQ_CONFORMANCE_PG
TEST_CASE("store conformance (sqlite): a database file that cannot be written still gives the status") {
  SqliteHarness h(conformance_scenario());
  seal_quickly(*h.store);
  five_sessions(h);
  wait_for_sealing();
  const std::string db = (h.dir / "q.db").string();
  h.store.reset();  // the last connection: SQLite folds its WAL into the file and removes it
  // Made immutable (root writes through a mode of 0444) until the end of the case. Where the file
  // system or a container refuses chattr, every file write fails instead (the fault VFS,
  // backends/sqlite/faults.cpp): the status then meets the refusal at its commit, not its first write.
  const bool root = geteuid() == 0;
  const std::string lock = root ? "chattr +i " + db + " 2>/dev/null" : "chmod 0444 " + db;
  const bool immutable = std::system(lock.c_str()) == 0;
  struct Unlock {
    std::string cmd;
    ~Unlock() {
      sqlite::arm_fault(sqlite::Fault::none);
      if (!cmd.empty()) (void)std::system(cmd.c_str());
    }
  } unlock{!immutable ? "" : root ? "chattr -i " + db : "chmod 0644 " + db};
  if (!immutable) sqlite::arm_fault(sqlite::Fault::none);  // the fault VFS, for the store opened next
  sqlite::SqliteStore ro(db, false);
  if (!immutable) sqlite::arm_fault(sqlite::Fault::write, 0, 1 << 30);
  WARN((immutable ? "the file is immutable" : "chattr refused: every file write fails instead"));
  seal_quickly(ro);
  const auto st = check_cached_status(ro);
  CHECK(st.sessions[1].second == 2);                     // COMPLETED: 2 and 4
  check_cached_status(ro);                               // again: still nothing stored, still right
  if (!immutable) CHECK(sqlite::faults_injected() > 0);  // the status did try to store its summary
  CHECK(h.status_cache().first == 0);
}
#endif

TEST_CASE("store conformance (" STORE_NAME "): a running engine folds sealed sessions into the summary itself") {
  // Were `live status` alone to move the summary on, a status run rarely would read every row
  // since the last one. The engine folds every LiveOptions::fold_status_s (SQLite: on a connection
  // of its own, apart from the one its heartbeat shares).
  LiveStoreHarness h(conformance_scenario());
  auto engine = h.open();
  engine->bind(h.sc, kScale);
  seal_quickly(*engine);
  for (int i = 0; i < 5; ++i) engine->submit_session();
  live::LiveOptions opt;
  opt.time_scale = kScale;
  opt.until_idle = true;
  opt.idle_s = kSealAfter + 1;  // past the last session's sealing margin, with folds to spare
  opt.fold_status_s = 0.2;
  opt.heartbeat_s = 0.05;
  opt.lease_s = 1;
  opt.quiet = true;
  const auto run = live::run_live(
      *engine, h.sc, [&](Clock& c) { return std::make_unique<ModelServices>(c, engine.get()); }, opt);
  CHECK(run.completed == 15);
  CHECK(h.status_cache().first >= 1);  // the engine's: nothing else asked for a status
  CHECK(covered(h) == std::make_pair(std::int64_t{4}, std::vector<std::int64_t>{}));  // sessions 0-4
  seal_quickly(*h.store);
  const auto st = check_cached_status(*h.store);
  CHECK(st.sessions[1].second == 5);  // COMPLETED
}
