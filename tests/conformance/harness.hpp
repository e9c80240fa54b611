// The store conformance suite's harness: one set of cases, run against every implementation of
// the core Queue — the simulator's in-memory step table (sim/world.cpp, inside a SimGrid actor in a
// child process), the live SQLite store (a real file) and the live PostgreSQL store (a real
// server) — and, for the rest of the LiveStore contract, against both live stores. The cases are
// split by concern, like River's driver tests: queue.cpp (claims, activation, fencing, waits),
// processors.cpp (operators, the reaper, graceful release, changes elsewhere), submissions.cpp,
// schema.cpp, status.cpp (status, history, queue state, forecasts) and capacity.cpp (clusters,
// release plans, the shared network). Each file is compiled twice: into the unit tests
// (simulator and SQLite) and, with STEPQ_CONFORMANCE_PG, into the PostgreSQL tests, which need the
// server CTest's `pg` fixture starts.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

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
#include "core/phase.hpp"
#include "core/scenario_load.hpp"

using namespace stepq;

namespace stepq::conformance {

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

}  // namespace stepq::conformance

using namespace stepq::conformance;

namespace {

// Two pools: `front` serves kinds a and b (the roots x and y), `back` serves c (z, after x and y).
constexpr const char* kScenario = R"({
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
[[maybe_unused]] constexpr int X = 0, Y = 1, Z = 2;

[[maybe_unused]] Scenario conformance_scenario(bool recheck = false) {
  std::string s = kScenario;
  s.replace(s.find("DEPS"), 4, recheck ? "recheck" : "activate");
  return parse_scenario(s, "conformance.json");
}

// The simulator's in-memory queue: each case runs in a child process with its own SimGrid engine
// (sim_harness.cpp, compiled into the unit tests only: SimGrid's headers are the slowest to
// compile, and six files include this one twice over).
}  // namespace
namespace stepq::conformance {
void run_sim(const Scenario& sc, const Case& body);
}  // namespace stepq::conformance
namespace {

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
  // The status cache row as stored: (generation, summary).
  virtual std::pair<std::int64_t, std::string> status_cache() = 0;
  // Runs SQL on the database outside any store (what an operator or a broken disk would do).
  virtual void exec(const std::string& sql) = 0;
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
  std::pair<std::int64_t, std::string> status_cache() override {
    sqlite::Db db((dir / "q.db").string(), false);
    auto s = db.prepare("SELECT generation, summary FROM status_cache WHERE id = 1");
    REQUIRE(s.step());
    return {s.i64(0), s.text(1)};
  }
  void exec(const std::string& sql) override { sqlite::Db((dir / "q.db").string(), false).exec(sql.c_str()); }
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
  std::pair<std::int64_t, std::string> status_cache() override {
    const auto r = pg::Conn(url, "conformance").exec("SELECT generation, summary FROM status_cache WHERE id = 1");
    return {r.i64(0, 0), r.text(0, 1)};
  }
  void exec(const std::string& sql) override { pg::Conn(url, "conformance").exec(sql); }
};

#ifdef STEPQ_CONFORMANCE_PG
using LiveStoreHarness = PgHarness;
#define STORE_NAME "postgres"
#else
using LiveStoreHarness = SqliteHarness;
#define STORE_NAME "sqlite"
#endif

[[maybe_unused]] void run_live_store(const Scenario& sc, const Case& body) {
  LiveStoreHarness h(sc);
  body(h);
}

// Sessions of 1-3 cores (drawn per session) on a cluster of a 4-core and a 2-core node, users
// limited to 2 sessions each; a release plan that deletes the compute and then cleans up.
[[maybe_unused]] Scenario cluster_scenario(const char* admission) {
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

// One 100 MB/s link that one transfer at a time may use (FTS's max_active 1): a session's 100 MB
// take one model second (kScale wall seconds).
[[maybe_unused]] Scenario one_link_scenario() {
  return parse_scenario(R"({"name": "links", "seed": 1, "sessions": 2,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["se", "site"],
                 "links": [{"name": "wan", "from": "se", "to": "site", "bandwidth_MBps": 100, "max_active": 1}]},
    "kinds": {"copy": {"op": "data", "threads": 1, "service_s": 0, "transfer": {"from": "se", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "c", "kind": "copy", "bytes": 1e8}]}]})",
                        "links.json");
}

// The claimed step is (session, step)?
[[maybe_unused]] void require_step(const std::optional<StepRef>& r, std::uint64_t session, int step) {
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
