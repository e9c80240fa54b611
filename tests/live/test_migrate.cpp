// A database written by the stepq before clusters (schema v1) is upgraded in place by `live init`
// (schema v2, issue 14): refused with what to do until then, its finished sessions kept as they
// were, its unfinished ones run to the end by the new engine.
#include <catch2/catch.hpp>
#include <fstream>

#include "backends/sqlite/db.hpp"
#include "backends/sqlite/sql/schema.hpp"
#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

// Two steps of two kinds, `l` after `f`: what the v1 rows below were submitted from.
const std::string kScenario = R"({"name": "base", "seed": 3, "sessions": 10,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {"fetch": {"threads": 1, "service_s": 1}, "launch": {"threads": 1, "service_s": 1}},
  "templates": [{"name": "t", "steps": [{"id": "f", "kind": "fetch"}, {"id": "l", "kind": "launch", "after": ["f"]}]}]})";

// Schema v1 exactly as the old stepq created it (migration 1 alone), with the rows its `live
// submit` and `live run` wrote: session 0 finished, session 1 submitted and not yet run.
void write_v1(const std::string& path) {
  stepq::sqlite::Db db(path, true);
  db.exec(stepq::sqlite::sql::migrations().at(0));
  db.exec("PRAGMA user_version = 1");
  db.exec(R"sql(
    INSERT INTO kind(id, name) VALUES (1, 'fetch'), (2, 'launch');
    INSERT INTO template(id, name, steps) VALUES (1, 't', 2);
    INSERT INTO session(id, template, phase, steps_left, created_at, finished_at) VALUES (0, 1, 'COMPLETED', 0, 1000, 1010);
    INSERT INTO step(id, session, num, tmpl, kind, phase, deps_left, max_attempts, fence, created_at, activated_at,
                     ready_at, claimed_at, finished_at)
      VALUES (0, 0, 0, 1, 1, 4, 0, 1, 1, 1000, 1000, 1000, 1001, 1005),
             (1, 0, 1, 1, 2, 4, 0, 1, 1, 1000, 1005, 1005, 1006, 1010);
    INSERT INTO session(id, template, phase, steps_left, created_at) VALUES (1, 1, 'ACTIVE', 2, 1020);
    INSERT INTO step(id, session, num, tmpl, kind, phase, deps_left, max_attempts, created_at, activated_at, ready_at)
      VALUES (2, 1, 0, 1, 1, 2, 0, 1, 1020, 1020, 1020), (3, 1, 1, 1, 2, 0, 1, 1, 1020, NULL, NULL);
    INSERT INTO step_next(step, next) VALUES (0, 1), (2, 3);
  )sql");
}

}  // namespace

TEST_CASE("live migrate: a schema v1 database is refused until `live init` upgrades it, then its sessions finish") {
  TempDir dir;
  write_v1(dir / "stepq.db");
  std::ofstream(dir / "base.json") << kScenario;

  const Result refused = run_stepq({"live", "run", "base.json", "--until-idle"}, dir.path);
  INFO(refused.err);
  CHECK(refused.status == 2);
  CHECK_THAT(refused.err, Catch::Contains("schema version 1") && Catch::Contains("stepq live init --db sqlite:"));

  const Result init = run_stepq({"live", "init"}, dir.path);
  INFO(init.err);
  REQUIRE(init.status == 0);
  {
    SqlDb db(dir / "stepq.db");
    CHECK(db.count("PRAGMA user_version") == static_cast<long long>(stepq::sqlite::sql::migrations().size()));
    // A finished session keeps its times; its start-up ended when it finished (it had no release).
    CHECK(db.count("SELECT count(*) FROM session WHERE id = 0 AND phase = 'COMPLETED' AND started_at = 1010 "
                   "AND finished_at = 1010") == 1);
    CHECK(db.count("SELECT count(*) FROM session WHERE release_left != 0 OR cluster IS NOT NULL") == 0);
  }
  CHECK(run_stepq({"live", "init"}, dir.path).status == 0);  // a second init changes nothing

  const Result run = run_stepq({"live", "run", "base.json", "--until-idle", "--time-scale", "0.01"}, dir.path, 60);
  INFO(run.err);
  REQUIRE(run.status == 0);
  SqlDb db(dir / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 2);
  CHECK(db.count("SELECT count(*) FROM session WHERE id = 1 AND started_at IS NOT NULL") == 1);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") == 4);
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'completed'") == 2);  // only session 1's steps ran
  const Result st = run_stepq({"live", "status"}, dir.path);
  CHECK(st.status == 0);
}
