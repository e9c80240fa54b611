// Heartbeats must not wait for the database's other work (issue 19, item 8): a worker whose reaper
// is held up by another process's lock must go on heartbeating, or the others take it for dead
// after a lease and run its steps a second time.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "pg/pg_check.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

TEST_CASE("heartbeat on PostgreSQL: a worker heartbeats on time while its reaper waits on another's lock") {
  TempDir dir;
  const std::string url = fresh_pg_url("heartbeat");
  const std::string sc = source("tests/live/slow.json");
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--db", url, "--sessions", "6"}, dir.path).status == 0);
  Proc worker(stepq::test::stepq({"live", "run", sc, "--db", url, "--lease", "1", "--heartbeat", "0.2"}), dir.path,
              "worker");
  PgDb watch(url);
  const std::string pid = std::to_string(worker.pid());
  REQUIRE(within(20, [&] { return watch.count("SELECT count(*) FROM processor WHERE pid = " + pid) == 1; }));
  const std::string beat = "SELECT heartbeat_at FROM processor WHERE pid = " + pid;

  // Another process takes the step table for 3 s: the reaper (and the claims) wait on it.
  PgDb locker(url);
  locker.exec("BEGIN");
  locker.exec("LOCK TABLE step IN ACCESS EXCLUSIVE MODE");
  const auto t0 = std::chrono::steady_clock::now();
  double last = watch.real(beat), last_at = 0, longest = 0;
  int beats = 0;
  while (since(t0) < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const double now = watch.real(beat);
    if (now != last) {
      longest = std::max(longest, since(t0) - last_at);
      last = now;
      last_at = since(t0);
      ++beats;
    }
  }
  longest = std::max(longest, since(t0) - last_at);
  // The reaper was waiting all along: its query is still blocked on the lock.
  CHECK(watch.count("SELECT count(*) FROM pg_locks WHERE relation = 'step'::regclass AND NOT granted") > 0);
  locker.exec("ROLLBACK");
  INFO(beats << " heartbeats in 3 s, the longest gap " << longest << " s");
  CHECK(beats >= 8);      // every 0.2 s: ~15
  CHECK(longest < 0.75);  // within the 1 s lease with room
  worker.signal(SIGTERM);
  CHECK(worker.wait(30).status == 0);
  CHECK(watch.count("SELECT count(*) FROM processor WHERE pid = " + pid + " AND stop_reason LIKE 'no heartbeat%'") ==
        0);
}
