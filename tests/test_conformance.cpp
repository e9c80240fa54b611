// The Queue conformance suite: one set of cases, run against every implementation of the core
// Queue — the simulator's in-memory step table (sim/world.cpp, inside a SimGrid actor in a child
// process), the live SQLite store (a real file) and the live PostgreSQL store (a real server).
// Cases that need processors (operator cancel, the reaper) run against the live stores only: the
// simulator has no processors to lose. This file is compiled twice: into the unit tests
// (simulator and SQLite) and, with STEPQ_CONFORMANCE_PG, into the PostgreSQL tests, which need the
// server CTest's `pg` fixture starts.
#include <sys/wait.h>
#include <unistd.h>

#include <simgrid/s4u.hpp>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include <array>
#include <map>
#include <set>

#include "backends/live/lifecycle.hpp"
#include "backends/postgres/pg_store.hpp"
#include "core/cluster.hpp"
#include "core/fluid_links.hpp"
#include "backends/sqlite/sqlite_store.hpp"
#include "pg/pg_env.hpp"
#include "core/scenario_load.hpp"
#include "sim/simulation.hpp"
#include "sim/world.hpp"

using namespace stepq;

namespace {

// Two pools: `front` serves kinds a and b (the roots x and y), `back` serves c (z, after x and y).
const char* kScenario = R"({
  "name": "conformance", "seed": 1, "sessions": 10,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "dispatch": {"mode": "notify", "claim_s": 0, "dependencies": "DEPS"},
  "pools": {"front": {"threads": 1, "kinds": ["a", "b"]}, "back": {"threads": 1, "kinds": ["c"]}},
  "kinds": {
    "a": {"service_s": {"dist": "constant", "value": 1}, "retry": {"max_attempts": 2, "backoff_s": 10}},
    "b": {"service_s": {"dist": "constant", "value": 1}, "retry": {"max_attempts": 3}},
    "c": {"service_s": {"dist": "constant", "value": 1}}
  },
  "templates": [{"name": "t", "steps": [
    {"id": "x", "kind": "a"}, {"id": "y", "kind": "b"}, {"id": "z", "kind": "c", "after": ["x", "y"]}]}]
})";
constexpr int X = 0, Y = 1, Z = 2;

Scenario conformance_scenario(bool recheck = false) {
  std::string s = kScenario;
  s.replace(s.find("DEPS"), 4, recheck ? "recheck" : "activate");
  return parse_scenario(s, "conformance.json");
}

// What a case may do: accept a session now, let time pass (due WAITING steps are promoted),
// read the clock, and use the Queue as a worker would.
struct Harness {
  virtual ~Harness() = default;
  virtual Queue& q() = 0;
  virtual void submit() = 0;
  virtual void advance(double model_s) = 0;
  virtual double now() = 0;
  int pool(const std::string& name) const {
    for (std::size_t p = 0; p < sc.pools.size(); ++p)
      if (sc.pools[p].name == name) return static_cast<int>(p);
    throw std::logic_error("no pool " + name);
  }
  Scenario sc;
};

using Case = std::function<void(Harness&)>;

// ---- the simulator's in-memory queue --------------------------------------------------------------

struct SimHarness final : Harness {
  sim::World* world = nullptr;
  std::uint64_t next = 0;
  Queue& q() override { return *world; }
  void submit() override { world->accept(next++); }
  void advance(double s) override { simgrid::s4u::this_actor::sleep_for(s); }
  double now() override { return world->now(); }
};

// SimGrid runs one engine per process: each case runs in a child. A failed REQUIRE in the child
// prints its message there (same stdout) and makes the child exit 1.
[[maybe_unused]] void run_sim(const Scenario& sc, const Case& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int ok = 1;
    {
      std::vector<std::string> args = sim::engine_args({});  // as a simulation's engine starts
      args.push_back("--log=root.thresh:critical");
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      int argc = static_cast<int>(argv.size());
      simgrid::s4u::Engine engine(&argc, argv.data());
      SimHarness h;
      h.sc = sc;
      sim::World world(h.sc, 0);  // builds the platform: its broker host runs the actors
      h.world = &world;
      auto* host = world.broker();
      simgrid::s4u::Actor::create("promoter", host, [&] {
        simgrid::s4u::Actor::self()->daemonize();
        world.promote_forever();
      });
      simgrid::s4u::Actor::create("case", host, [&] {
        try {
          body(h);
          ok = 0;
        } catch (...) {
        }
      });
      engine.run();
    }
    std::fflush(nullptr);
    _exit(ok);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  INFO("the case failed in the simulator's child process (its message is above)");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// ---- the live stores ------------------------------------------------------------------------------

// Wall seconds per model second: 10 model s = 100 ms, so that a case's "not due yet" holds on a
// loaded machine (at 20 ms a stalled thread once overslept a 10 ms sleep by the rest).
constexpr double kScale = 0.01;

// A live store as processor A, and open() for more processors on the same database.
struct LiveHarness : Harness {
  std::unique_ptr<live::LiveStore> store;
  virtual std::unique_ptr<live::LiveStore> open() = 0;
  // What a newer stepq would leave behind: the schema version set to v, in the dialect's own way.
  virtual void set_schema_version(int v) = 0;
  void start(const Scenario& s) {
    sc = s;
    store = open();
    store->migrate();
    store->bind(sc, kScale);
    store->register_processor("test", getpid(), "all");
  }
  Queue& q() override { return *store; }
  void submit() override { store->submit_session(); }
  void advance(double s) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(s * kScale));
    store->promote();
  }
  double now() override { return live::wall_now() / kScale; }
};

struct SqliteHarness final : LiveHarness {
  std::filesystem::path dir;
  explicit SqliteHarness(const Scenario& s) {
    char tmpl[] = "/tmp/stepq-conformance-XXXXXX";
    dir = mkdtemp(tmpl);
    start(s);
  }
  ~SqliteHarness() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  std::unique_ptr<live::LiveStore> open() override {
    return std::make_unique<sqlite::SqliteStore>((dir / "q.db").string(), true);
  }
  void set_schema_version(int v) override {
    sqlite::Db((dir / "q.db").string(), false).exec(("PRAGMA user_version = " + std::to_string(v)).c_str());
  }
};

struct PgHarness final : LiveHarness {
  std::string url = test::fresh_pg_url("conformance");
  explicit PgHarness(const Scenario& s) { start(s); }
  // No fallback poll within a test: what changes_elsewhere reports comes from the notifications
  // (a fallback poll reports every pool with READY steps, wanted or not, every 0.5 s).
  std::unique_ptr<live::LiveStore> open() override {
    auto s = std::make_unique<pg::PgStore>(url, true);
    s->fallback_poll_s = 3600;
    return s;
  }
  void set_schema_version(int v) override {
    pg::Conn(url, "conformance").exec("UPDATE stepq_meta SET version = " + std::to_string(v));
  }
};

#ifdef STEPQ_CONFORMANCE_PG
using LiveStoreHarness = PgHarness;
#define STORE_NAME "postgres"
#else
using LiveStoreHarness = SqliteHarness;
#define STORE_NAME "sqlite"
#endif

void run_live_store(const Scenario& sc, const Case& body) {
  LiveStoreHarness h(sc);
  body(h);
}

// The claimed step is (session, step)?
void require_step(const std::optional<StepRef>& r, std::uint64_t session, int step) {
  REQUIRE(r.has_value());
  INFO("claimed session " << r->session << " step " << r->step);
  REQUIRE(r->session == session);
  REQUIRE(r->step == step);
}

}  // namespace

#ifdef STEPQ_CONFORMANCE_PG
#define QUEUE_CASE(name, title, recheck)                                                                     \
  static void name(Harness& h);                                                                              \
  TEST_CASE("queue conformance (postgres): " title) { run_live_store(conformance_scenario(recheck), name); } \
  static void name(Harness& h)
#else
#define QUEUE_CASE(name, title, recheck)                                                                   \
  static void name(Harness& h);                                                                            \
  TEST_CASE("queue conformance (simulator): " title) { run_sim(conformance_scenario(recheck), name); }     \
  TEST_CASE("queue conformance (sqlite): " title) { run_live_store(conformance_scenario(recheck), name); } \
  static void name(Harness& h)
#endif

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

// ---- live stores only: the cluster and the release plan kept in the database -----------------------

namespace {

// Sessions of 1-3 cores (drawn per session) on a cluster of a 4-core and a 2-core node, users
// limited to 2 sessions each; a release plan that deletes the compute and then cleans up.
Scenario cluster_scenario(const char* admission) {
  std::string s = R"({
    "name": "capacity", "seed": 3, "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 1, "users": {"count": 3}},
    "platform": {"clusters": {"k": {"nodes": [{"count": 1, "cores": 4, "memory_GB": 16}, {"count": 1, "cores": 2, "memory_GB": 64}],
                                    "admission": "ADM", "user_limit": 2}},
                 "storage": {"s": {"quota_bytes": 10}}},
    "kinds": {"store": {"op": "storage", "threads": 1, "service_s": 0},
              "launch": {"op": "launch", "threads": 1, "service_s": 0},
              "poll": {"op": "poll", "threads": 1, "poll": {"interval_s": 1, "ready_after_s": 0}},
              "delete": {"op": "delete", "threads": 1, "service_s": 0},
              "clean": {"op": "cleanup", "threads": 1, "service_s": 0}},
    "templates": [{"name": "t",
      "session": {"cluster": "k", "cores": {"dist": "empirical", "samples": [1, 2, 3]}, "memory_GB": 4,
                  "run_s": {"dist": "constant", "value": 30}},
      "steps": [{"id": "home", "kind": "store", "area": "s", "bytes": 4, "mount": "WriteTemp"},
                {"id": "l", "kind": "launch", "after": ["home"]}, {"id": "p", "kind": "poll", "after": ["l"]}],
      "release": [{"id": "d", "kind": "delete"}, {"id": "c", "kind": "clean", "after": ["d"]}]}]})";
  s.replace(s.find("ADM"), 3, admission);
  return parse_scenario(s, "capacity.json");
}

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

// ---- live stores only: the rest of the store contract (issue 19, item 4) ----------------------------

TEST_CASE("store conformance (" STORE_NAME "): migrating twice changes nothing, and the schema is then current") {
  LiveStoreHarness h(conformance_scenario());
  const int v = h.store->schema_version();
  REQUIRE(v > 0);
  h.submit();
  REQUIRE(h.store->migrate() == 0);  // migrations applied
  REQUIRE(h.store->schema_version() == v);
  REQUIRE_NOTHROW(h.store->require_schema());
  require_step(h.q().claim(h.pool("front")), 0, X);  // the queue survived the second migration
}

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

TEST_CASE("store conformance (" STORE_NAME "): bind refuses a scenario whose template differs from the queue's") {
  LiveStoreHarness h(conformance_scenario());
  h.submit();  // an unfinished session of template t, three steps
  Scenario other = h.sc;
  other.templates[0].steps.pop_back();  // t with two steps
  other.templates[0].startup_steps = 2;
  auto b = h.open();
  REQUIRE_THROWS_AS(b->bind(other, kScale), live::StoreError);
  REQUIRE_NOTHROW(b->bind(h.sc, kScale));  // the scenario it ran is fine
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

TEST_CASE("store conformance (" STORE_NAME "): a schema newer than this stepq is refused, and not migrated") {
  LiveStoreHarness h(conformance_scenario());
  h.submit();
  const int v = h.store->schema_version();
  h.set_schema_version(v + 1);
  auto other = h.open();
  REQUIRE(other->schema_version() == v + 1);
  for (const auto& call :
       std::vector<std::function<void()>>{[&] { other->require_schema(); }, [&] { other->migrate(); }}) {
    try {
      call();
      FAIL("a newer schema was accepted");
    } catch (const live::StoreError& e) {
      CHECK_THAT(e.what(), Catch::Contains("schema version " + std::to_string(v + 1)) &&
                               Catch::Contains("newer than this stepq understands"));
    }
  }
  REQUIRE(other->schema_version() == v + 1);  // nothing was applied on top of it
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

TEST_CASE("store conformance (" STORE_NAME "): with_links keeps one network for every connection") {
  // One 100 MB/s link that one transfer at a time may use (FTS's max_active 1): 100 MB take one
  // model second, kScale wall seconds.
  const Scenario sc = parse_scenario(R"({"name": "links", "seed": 1, "sessions": 2,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["se", "site"],
                 "links": [{"name": "wan", "from": "se", "to": "site", "bandwidth_MBps": 100, "max_active": 1}]},
    "kinds": {"copy": {"op": "data", "threads": 1, "service_s": 0, "transfer": {"from": "se", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "c", "kind": "copy", "bytes": 1e8}]}]})",
                                     "links.json");
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
