// Crash safety: worker processes on one SQLite file, one of them SIGKILLed mid-run. Afterwards
// the execution log must show every step done once, nothing run twice at once, nothing lost.
// The lease (3 s, heartbeat every 0.3 s) is long enough that no live process is taken for dead
// on a loaded 2-core machine: a process declared dead while it still runs a step would run it
// twice at once, which is what the lease exists to prevent and what this test would catch.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

// Polls `cond` every 10 ms for at most `seconds`.
template <class F>
bool eventually(double seconds, F&& cond) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace

TEST_CASE("crash: 3 processes x 4 threads, one SIGKILLed mid-run: every step once, none twice at once") {
  TempDir dir;
  const std::string sc = source("tests/live/crash.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "2000"}, dir.path).status == 0);
  const std::vector<std::string> worker = {"live", "run", sc, "--time-scale", "0.002", "--until-idle", "--lease", "3",
                                           "--heartbeat", "0.3"};
  std::vector<std::unique_ptr<Proc>> procs;
  for (const char* tag : {"w0", "w1", "w2"}) procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker), dir.path, tag));

  SqlDb db(dir / "stepq.db");
  const std::string victim_pid = std::to_string(procs[1]->pid());
  auto victim_running = [&] {
    return db.count("SELECT count(*) FROM step s JOIN processor p ON p.id = s.processor WHERE s.phase = 3 AND p.pid = " +
                    victim_pid);
  };
  // Mid-run: a good part done, and the victim holding steps.
  REQUIRE(eventually(60, [&] { return db.count("SELECT count(*) FROM step WHERE phase = 4") > 1500 && victim_running() > 0; }));
  procs[1]->signal(SIGKILL);
  const Result killed = procs[1]->wait(10);
  CHECK(killed.status == 128 + SIGKILL);
  procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker), dir.path, "w3"));
  for (std::size_t i = 0; i < procs.size(); ++i) {
    if (i == 1) continue;
    const Result r = procs[i]->wait(120);
    INFO("worker " << i << ": " << r.err);
    CHECK(r.status == 0);
  }

  // Every session ended, failures with a reason; a COMPLETED session has every step COMPLETED.
  CHECK(db.count("SELECT count(*) FROM session") == 2000);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase NOT IN ('COMPLETED', 'FAILED')") == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND coalesce(reason, '') = ''") == 0);
  CHECK(db.count("SELECT count(*) FROM session s JOIN step t ON t.session = s.id "
                 "WHERE s.phase = 'COMPLETED' AND t.phase != 4") == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") > 1800);
  // Nothing RUNNING, and no execution left open.
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 3") == 0);
  CHECK(db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL") == 0);
  // No step completed twice.
  CHECK(db.count("SELECT count(*) FROM (SELECT step FROM execution WHERE outcome = 'completed' "
                 "GROUP BY step HAVING count(*) > 1)") == 0);
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") ==
        db.count("SELECT count(*) FROM execution WHERE outcome = 'completed'"));
  // No step ran in two places at once: each execution ended before the next one of the step began.
  const std::string overlap =
      "FROM execution e JOIN execution n ON n.step = e.step AND n.fence = e.fence + 1 WHERE n.started_at < e.ended_at";
  for (const auto& r : db.rows("SELECT e.step, e.processor, e.outcome, e.ended_at - n.started_at, n.processor " + overlap))
    UNSCOPED_INFO("step " << r[0] << ": processor " << r[1] << " (" << r[2] << ") ran " << r[3]
                          << " s into the next run by processor " << r[4]);
  CHECK(db.count("SELECT count(*) " + overlap) == 0);
  // The kill hit running steps, the reaper gave them back, and the dead processor is marked.
  const auto victim = db.rows("SELECT id, coalesce(stopped_at, ''), coalesce(stop_reason, '') FROM processor WHERE pid = " +
                              victim_pid);
  REQUIRE(victim.size() == 1);
  CHECK(!victim[0][1].empty());
  CHECK_THAT(victim[0][2], Catch::Contains("no heartbeat"));
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'reaped' AND processor = " + victim[0][0]) > 0);
  CHECK(db.count("SELECT count(*) FROM execution WHERE processor = " + victim[0][0] + " AND outcome = 'completed'") > 0);
}
