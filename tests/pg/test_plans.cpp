// The hot statements must find their rows by key whatever the planner's statistics said when
// they were planned. stepq's connections cache one plan per statement; a plan made while a table
// was empty (a new queue, or one whose history was purged and vacuumed) must not scan that table
// once it has grown. Before this test, the completion's cached plan read the whole execution log
// per completion: 50 million rows in a 10,000-cycle bench, half pgbench's throughput on the same
// SQL (pgbench re-plans its first executions).
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

#include "backends/postgres/pg_store.hpp"
#include "backends/postgres/sql/schema.hpp"
#include "core/scenario_load.hpp"
#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq;
using namespace stepq::test;

namespace {

// Rows read so far from the queue's tables (table scans and index fetches), by table, as
// reported by the backends that have flushed their statistics.
std::map<std::string, long long> rows_read(PgDb& db) {
  std::map<std::string, long long> read;
  for (const auto& row : db.rows("SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
                                 "FROM pg_stat_user_tables WHERE relname IN ('step', 'session', 'execution')"))
    read[row[0]] = std::stoll(row[1]);
  return read;
}

}  // namespace

TEST_CASE("postgres claim and completion read a few rows each, also when planned on empty tables") {
  const Scenario sc = parse_scenario(R"({"name": "plans", "seed": 1, "sessions": 1,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"work": {"threads": 1, "service_s": 0}},
    "templates": [{"name": "one", "steps": [{"id": "w", "kind": "work"}]}]})",
                                     "plans.json");
  const std::string url = fresh_pg_url("plans");
  constexpr int kFirst = 2000, kThen = 1000;
  std::map<std::string, long long> before, after;
  {
    pg::PgStore store(url, true);
    store.migrate();
    store.bind(sc, 1);
    store.register_processor("test", 1, "work=1");
    PgDb(url).exec("VACUUM ANALYZE");  // statistics of empty tables
    for (int i = 0; i < kFirst + kThen; ++i) store.submit_session();
    auto cycles = [&](int n) {
      for (int i = 0; i < n; ++i) {
        auto s = store.claim(0);
        REQUIRE(s);
        REQUIRE(store.finish(*s, Outcome::completed()));
      }
    };
    cycles(kFirst);
    // An idle backend reports its statistics at once only if its last report is a second old;
    // otherwise it reports 10 s later (PostgreSQL 15's PGSTAT_IDLE_INTERVAL). A shorter wait
    // left the first cycles' scans, made on plans from smaller tables, to be counted after.
    std::this_thread::sleep_for(std::chrono::milliseconds(11500));
    PgDb db(url);
    before = rows_read(db);
    REQUIRE(before["execution"] >= kFirst);  // each completion reads its execution row
    cycles(kThen);
  }  // the store's connections close: their backends report the rest
  PgDb db(url);
  REQUIRE(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == kFirst + kThen);
  // The closed backends' statistics must have arrived, or every difference below is 0 and the
  // checks pass whatever the plans did: each completion reads its execution row at least once.
  REQUIRE(within(10, [&] {
    after = rows_read(db);
    return after["execution"] - before["execution"] >= kThen;
  }));
  const double execution = double(after["execution"] - before["execution"]) / kThen,
               step = double(after["step"] - before["step"]) / kThen,
               session = double(after["session"] - before["session"]) / kThen;
  INFO("rows read per cycle, cycles " << kFirst << " to " << kFirst + kThen << ": step " << step << ", session "
                                      << session << ", execution " << execution);
  // By key: a row or a few per cycle (3, 1 and 1 here). A table scan reads ~2,000-3,000.
  CHECK(execution < 2);
  CHECK(step < 5);
  CHECK(session < 2);
  // The completion finds its execution row by (step, fence): one index entry. Through an index of
  // open executions keyed by processor it read every open entry, dead ones included.
  const long long entries = db.count("SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'execution'");
  CHECK(entries <= (kFirst + kThen) * 11 / 10);
}

TEST_CASE("postgres `live init` migrates a version-1 database: the RUNNING and open-execution indexes keyed by row") {
  TempDir dir;
  const std::string url = fresh_pg_url("migrate");
  {  // What version 1 made: its migration only.
    pg::PgStore make(url, true);
    PgDb db(url);
    db.exec("CREATE TABLE stepq_meta (version int NOT NULL); INSERT INTO stepq_meta VALUES (1)");
    db.exec(pg::sql::migrations()[0]);
    db.exec(
        "INSERT INTO kind(name) VALUES ('work'); INSERT INTO template(name, steps) VALUES ('t', 1); "
        "INSERT INTO session(id, template, phase, steps_left, created_at, finished_at) "
        "VALUES (0, 1, 'COMPLETED', 0, 100, 130)");
  }
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  PgDb db(url);
  CHECK(db.count("SELECT max(version) FROM stepq_meta") == static_cast<long long>(pg::sql::migrations().size()));
  const auto def = [&](const std::string& index) {
    return db.rows("SELECT indexdef FROM pg_indexes WHERE indexname = '" + index + "'").at(0).at(0);
  };
  CHECK_THAT(def("step_running"), Catch::Contains("(id) WHERE (phase = 3)"));
  CHECK_THAT(def("execution_open"), Catch::Contains("(step, fence) WHERE (ended_at IS NULL)"));
  // v3: a completed session's start-up is kept where `live status` now reads it.
  CHECK(db.rows("SELECT started_at - created_at, release_left FROM session WHERE id = 0").at(0) ==
        std::vector<std::string>{"30", "0"});
}
