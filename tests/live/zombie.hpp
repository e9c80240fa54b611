// Zombies: a worker paused (SIGSTOP) past its lease while it holds steps, as a long GC pause, a
// swapped-out VM or a stalled disk would. Another worker reaps it and runs its steps again; then
// the paused one resumes (SIGCONT) believing it still holds them. Its late finishes must all be
// refused (the claims' fences moved on), every step must have exactly one completed execution,
// and the resumed process must notice it was declared dead and carry on as a new processor.
// Run on SQLite (tests/live/test_zombie.cpp) and PostgreSQL (tests/pg/test_pg_zombie.cpp).
#pragma once
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "live/db_check.hpp"
#include "live/history.hpp"
#include "live/processes.hpp"

namespace stepq::test {

// `db`: the --db arguments (none: the directory's stepq.db); `open`: reads that database.
template <class Db, class Open>
void zombie(const std::vector<std::string>& db_args, Open open) {
  TempDir dir;
  auto with_db = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, db_args.begin(), db_args.end());
    return args;
  };
  // Steps of 2 model seconds, at --time-scale 0.5 one wall second: long enough to pause the
  // victim mid-step, short enough for a test. A reaped step runs again as its second attempt.
  std::ofstream(dir / "zombie.json") << R"({"name": "zombie", "seed": 3, "sessions": 6,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"w": {"threads": 2, "service_s": 2, "retry": {"max_attempts": 2}}},
    "templates": [{"name": "t", "steps": [{"id": "s", "kind": "w"}]}]})";
  const int sessions = 6;
  const std::vector<std::string> worker = with_db(
      {"live", "run", "zombie.json", "--time-scale", "0.5", "--until-idle", "--lease", "1", "--heartbeat", "0.2"});
  REQUIRE(run_stepq(with_db({"live", "init"}), dir.path).status == 0);
  REQUIRE(
      run_stepq(with_db({"live", "submit", "zombie.json", "--sessions", std::to_string(sessions)}), dir.path).status ==
      0);
  Db db = open(dir);

  Proc victim(stepq::test::stepq(worker), dir.path, "victim");
  const std::string pid = std::to_string(victim.pid());
  REQUIRE(within(20, [&] { return db.count("SELECT count(*) FROM processor WHERE pid = " + pid) == 1; }));
  const std::string vid = db.rows("SELECT id FROM processor WHERE pid = " + pid).at(0).at(0);
  REQUIRE(
      within(20, [&] { return db.count("SELECT count(*) FROM step WHERE phase = 3 AND processor = " + vid) == 2; }));
  victim.signal(SIGSTOP);
  const auto held = db.rows("SELECT step, fence FROM execution WHERE processor = " + vid + " AND ended_at IS NULL");
  REQUIRE(held.size() == 2);

  // The rescuer declares it dead after a lease, runs its two steps again and the other four.
  const Result rescuer = run_stepq(worker, dir.path, 60);
  INFO(rescuer.err);
  REQUIRE(rescuer.status == 0);
  REQUIRE(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  CHECK_THAT(db.rows("SELECT coalesce(stop_reason, '') FROM processor WHERE id = " + vid).at(0).at(0),
             Catch::Contains("no heartbeat"));
  const auto reaped = db.rows("SELECT step, fence FROM execution WHERE processor = " + vid + " AND outcome = 'reaped'");
  CHECK(reaped == held);
  const auto log_before =
      db.rows("SELECT step, fence, outcome, ended_at, processor FROM execution ORDER BY step, fence");

  // The victim wakes: its handlers' sleeps are long over, so it finishes both steps at once, with
  // the fences of claims that are no longer its own.
  victim.signal(SIGCONT);
  const Result woke = victim.wait(30);
  INFO(woke.err);
  CHECK(woke.status == 0);
  CHECK_THAT(woke.err, Catch::Contains("stopped by idle"));

  // Nothing it did after waking changed the log: no execution of its old processor completed,
  // the rows written before are as they were, and each step has exactly one completed execution.
  CHECK(db.count("SELECT count(*) FROM execution WHERE processor = " + vid + " AND outcome != 'reaped'") == 0);
  // (All six sessions were complete before it woke, so nothing was left for it to claim.)
  const auto log_after =
      db.rows("SELECT step, fence, outcome, ended_at, processor FROM execution ORDER BY step, fence");
  CHECK(log_after == log_before);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") == sessions);
  CHECK(db.count("SELECT count(*) FROM (SELECT step FROM execution WHERE outcome = 'completed' GROUP BY step "
                 "HAVING count(*) = 1) once") == sessions);
  check_no_step_twice(db);
  // It noticed: its next heartbeat found it declared dead, and it carried on as a new processor.
  CHECK(db.count("SELECT count(*) FROM processor WHERE pid = " + pid) == 2);
}

}  // namespace stepq::test
