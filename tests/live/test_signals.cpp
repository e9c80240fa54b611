// Stopping a worker process: SIGINT/SIGTERM stop claiming and let running steps finish; past the
// grace period they go back to READY. Either way nothing stays RUNNING and nothing is lost.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

template <class F>
bool eventually(double seconds, F&& cond) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

void finish_the_rest(const std::string& sc, TempDir& dir, SqlDb& db) {
  const Result again = run_stepq({"live", "run", sc, "--until-idle"}, dir.path, 60);
  INFO(again.err);
  CHECK(again.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 6);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 3") == 0);
  CHECK(db.count("SELECT count(*) FROM (SELECT step FROM execution WHERE outcome = 'completed' "
                 "GROUP BY step HAVING count(*) > 1)") == 0);
}

}  // namespace

TEST_CASE("signals: SIGINT lets running steps finish, leaves nothing RUNNING, loses nothing") {
  TempDir dir;
  const std::string sc = source("tests/live/slow.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "6"}, dir.path).status == 0);
  Proc w(stepq::test::stepq({"live", "run", sc}), dir.path, "run");
  SqlDb db(dir / "stepq.db");
  REQUIRE(eventually(10, [&] { return db.count("SELECT count(*) FROM step WHERE phase = 3") == 2; }));
  const auto t0 = std::chrono::steady_clock::now();
  w.signal(SIGINT);
  const Result r = w.wait(20);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(took < 5);  // the two running steps finished (1.5 s), nothing new was claimed
  CHECK_THAT(r.err, Catch::Contains("stopped by signal"));
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 3") == 0);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") == 2);  // the two it had, completed
  CHECK(db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL") == 0);
  CHECK(db.count("SELECT count(*) FROM session") == 6);
  CHECK(db.count("SELECT count(*) FROM processor WHERE stopped_at IS NULL") == 0);
  finish_the_rest(sc, dir, db);
}

TEST_CASE("signals: SIGTERM past the grace period releases running steps back to READY") {
  TempDir dir;
  const std::string sc = source("tests/live/slow.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "6"}, dir.path).status == 0);
  Proc w(stepq::test::stepq({"live", "run", sc, "--grace", "0.2"}), dir.path, "run");
  SqlDb db(dir / "stepq.db");
  REQUIRE(eventually(10, [&] { return db.count("SELECT count(*) FROM step WHERE phase = 3") == 2; }));
  w.signal(SIGTERM);
  const Result r = w.wait(10);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("released 2"));
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 3") == 0);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 2") == 6);  // all READY again, none lost
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'released'") == 2);
  CHECK(db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL") == 0);
  finish_the_rest(sc, dir, db);
}
