// Crash safety: worker processes on one SQLite file, one of them SIGKILLed mid-run and another
// started. Afterwards the execution log must show every step completed at most once, no step
// running in two places at once, nothing lost and nothing left RUNNING.
//
// The lease is 1 s with a heartbeat every 0.2 s: a live process must never be taken for dead on
// a loaded 2-core machine (the test checks that only the killed processor was declared dead), and
// the killed one must be declared dead after a full lease, not before.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>

#include "live/db_check.hpp"
#include "live/history.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

double wall_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// One session of two root steps, each kind one thread, in `dir`/NAME.json.
std::string two_steps(const TempDir& dir, const std::string& name, const std::string& kinds) {
  std::ofstream(dir / (name + ".json"))
      << R"({"name": ")" << name << R"(", "seed": 1, "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
 "kinds": {)"
      << kinds << R"(},
 "templates": [{"name": "t", "steps": [{"id": "one", "kind": "first"}, {"id": "two", "kind": "second"}]}]})";
  return dir / (name + ".json");
}

// A `live run` (lease 1 s) is SIGKILLed once `ready` holds; returns its processor id once its
// lease has run out, so that the next process's first reaper pass finds it dead.
std::string kill_when(const TempDir& dir, const std::string& sc, SqlDb& db, const std::string& ready) {
  Proc v(stepq::test::stepq({"live", "run", sc, "--lease", "1", "--heartbeat", "0.2"}), dir.path, "victim");
  REQUIRE(within(20, [&] { return db.count(ready) > 0; }));
  v.signal(SIGKILL);
  REQUIRE(v.wait(10).status == 128 + SIGKILL);
  const std::string id = db.rows("SELECT id FROM processor WHERE pid = " + std::to_string(v.pid())).at(0).at(0);
  REQUIRE(
      within(10, [&] { return wall_now() - db.real("SELECT heartbeat_at FROM processor WHERE id = " + id) > 1.05; }));
  return id;
}

Result run_until_idle(const TempDir& dir, const std::string& sc) {
  return run_stepq({"live", "run", sc, "--until-idle", "--lease", "1", "--heartbeat", "0.2", "--time-scale", "0.01"},
                   dir.path, 60);
}

}  // namespace

TEST_CASE(
    "crash: 3 processes x 4 threads, one SIGKILLed mid-run, one started: no step completed twice or run twice at "
    "once") {
  TempDir dir;
  const std::string sc = source("tests/live/crash.json");
  const int sessions = 2000;
  const double lease = 1;
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", std::to_string(sessions)}, dir.path).status == 0);
  const std::vector<std::string> worker = {"live",         "run",     sc,  "--time-scale", "0.002",
                                           "--until-idle", "--lease", "1", "--heartbeat",  "0.2"};
  std::vector<std::unique_ptr<Proc>> procs;
  for (const char* tag : {"w0", "w1", "w2"})
    procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker), dir.path, tag));
  Proc& victim = *procs[1];

  SqlDb db(dir / "stepq.db");
  const std::string victim_pid = std::to_string(victim.pid());
  REQUIRE(within(20, [&] { return db.count("SELECT count(*) FROM processor WHERE pid = " + victim_pid) == 1; }));
  const std::string vid = db.rows("SELECT id FROM processor WHERE pid = " + victim_pid).at(0).at(0);
  auto victim_running = [&] { return db.count("SELECT count(*) FROM step WHERE phase = 3 AND processor = " + vid); };
  // Mid-run: some steps completed, and the victim holding steps.
  REQUIRE(
      within(60, [&] { return db.count("SELECT count(*) FROM step WHERE phase = 4") > 600 && victim_running() > 0; }));
  victim.signal(SIGKILL);
  const Result killed = victim.wait(10);
  CHECK(killed.status == 128 + SIGKILL);
  // What it held when it died: executions still open, or already closed by a fast reaper.
  const auto held = db.rows("SELECT step, fence FROM execution WHERE processor = " + vid +
                            " AND (ended_at IS NULL OR outcome = 'reaped') ORDER BY step");
  INFO("the victim held " << held.size() << " steps when it was killed");
  REQUIRE(!held.empty());
  // Work is left for the survivors and the newcomer.
  REQUIRE(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") > 200);
  procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker), dir.path, "w3"));
  for (std::size_t i = 0; i < procs.size(); ++i) {
    if (i == 1) continue;
    const Result r = procs[i]->wait(120);
    INFO("worker " << i << ": " << r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("stopped by idle"));
  }

  {  // every session ended: COMPLETED with every step COMPLETED, or FAILED with a reason
    check_all_ended(db, sessions);
    // Every failure is one the run explains: the kill (a session a step the victim held belonged
    // to, its attempts used up) or the scenario's sampled failures, all attempts failing: per
    // session 0.05^3 + 0.02^2 = 5.25e-4, about 1 in 2,000 sessions (8 or more: P < 1e-5).
    std::size_t by_kill = 0, by_draw = 0;
    for (const auto& r : db.rows("SELECT coalesce(reason, '') FROM session WHERE phase = 'FAILED'")) {
      INFO("failed: " << r[0]);
      const bool kill = r[0].find("stopped while running") != std::string::npos;
      const bool draw = r[0].find("sampled failure (failure_probability") != std::string::npos;
      CHECK((kill || draw));
      by_kill += kill;
      by_draw += draw;
    }
    CHECK(by_kill <= held.size());
    CHECK(by_draw < 8);
  }

  {  // no step completed twice, none ran in two places at once
    check_no_step_twice(db);
    const std::string next =
        "SELECT step, processor, lead(processor) OVER w AS next_proc "
        "FROM execution WINDOW w AS (PARTITION BY step ORDER BY started_at, fence)";
    CHECK(db.count("SELECT count(*) FROM execution") > 3 * sessions);  // the log is the real thing
    // Several processors took part in the steps run more than once (retries, reaped steps).
    CHECK(db.count("SELECT count(*) FROM (" + next + ") WHERE next_proc IS NOT NULL AND next_proc != processor") > 0);
  }

  {  // the kill hit running steps; the reaper closed them after a full lease and they ran again elsewhere
    const auto v =
        db.rows("SELECT coalesce(stopped_at, ''), coalesce(stop_reason, '') FROM processor WHERE id = " + vid);
    REQUIRE(v.size() == 1);
    CHECK(!v[0][0].empty());
    CHECK_THAT(v[0][1], Catch::Contains("no heartbeat for 1 s"));
    CHECK(db.real("SELECT stopped_at - heartbeat_at FROM processor WHERE id = " + vid) >= lease);
    // Exactly what it held was reaped, no earlier than a lease after its last heartbeat.
    const auto reaped = db.rows("SELECT step, fence FROM execution WHERE outcome = 'reaped' ORDER BY step");
    CHECK(reaped == held);
    CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'reaped' AND processor != " + vid) == 0);
    CHECK(db.count("SELECT count(*) FROM execution e, processor p WHERE p.id = " + vid +
                   " AND e.processor = p.id AND e.outcome = 'reaped' AND e.ended_at < p.heartbeat_at + " +
                   std::to_string(lease)) == 0);
    // Each reaped step either ran again under another processor or failed for want of attempts
    // (or was cancelled with its failed session).
    for (const auto& r : held) {
      const auto s = db.rows("SELECT phase, coalesce(reason, '') FROM step WHERE id = " + r[0]).at(0);
      INFO("reaped step " << r[0] << ": phase " << s[0] << ", " << s[1]);
      if (s[0] == "4")
        CHECK(db.count("SELECT count(*) FROM execution WHERE step = " + r[0] +
                       " AND outcome = 'completed' AND processor != " + vid + " AND fence > " + r[1]) == 1);
      else if (s[0] == "5") CHECK_THAT(s[1], Catch::Contains("stopped while running"));
      else CHECK(s[0] == "6");
    }
    CHECK(db.count("SELECT count(*) FROM execution WHERE processor = " + vid + " AND outcome = 'completed'") > 0);
  }

  {  // no live processor was taken for dead; the newcomer did work
    // A live processor declared dead would register again under a new id: four rows means none was.
    CHECK(db.count("SELECT count(*) FROM processor") == 4);
    CHECK(db.count("SELECT count(*) FROM processor WHERE id != " + vid + " AND stop_reason != 'stopped (idle)'") == 0);
    const std::string newcomer = std::to_string(procs[3]->pid());
    CHECK(db.count("SELECT count(*) FROM execution e JOIN processor p ON p.id = e.processor WHERE p.pid = " +
                   newcomer) > 0);
  }
}

TEST_CASE("crash: the reaper does not bring back a step that its session's failure cancelled") {
  // Both steps run in the killed process; reaping the first (no attempts left) fails the session
  // and cancels the second, which must stay CANCELLED rather than go back to READY and run.
  TempDir dir;
  const std::string sc = two_steps(dir, "pair",
                                   R"("first": {"threads": 1, "service_s": 30, "retry": {"max_attempts": 1}},
                                      "second": {"threads": 1, "service_s": 30, "retry": {"max_attempts": 3}})");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "1"}, dir.path).status == 0);
  SqlDb db(dir / "stepq.db");
  const std::string victim = kill_when(dir, sc, db, "SELECT count(*) = 2 FROM step WHERE phase = 3");
  const Result r = run_until_idle(dir, sc);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%no attempts left%'") == 1);
  CHECK(db.rows("SELECT group_concat(phase, ',') FROM (SELECT phase FROM step ORDER BY num)").at(0).at(0) == "5,6");
  CHECK(db.count("SELECT count(*) FROM execution e JOIN step t ON t.id = e.step JOIN session s ON s.id = t.session "
                 "WHERE e.started_at >= s.finished_at") == 0);  // nothing ran for the failed session
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'reaped' AND processor = " + victim) == 2);
  CHECK(db.count("SELECT count(*) FROM execution") == 2);
  CHECK_THAT(r.err, Catch::Contains("reaped 2 of dead processors"));
}

TEST_CASE("crash: the execution of a step cancelled while its process died is closed by the reaper") {
  // The first step fails at once and fails the session, cancelling the second while it runs;
  // then the process is killed, so no finish ever closes that second execution: the reaper must.
  TempDir dir;
  const std::string sc = two_steps(dir, "cancelled",
                                   R"("first": {"threads": 1, "service_s": 0.1,
                                                "retry": {"max_attempts": 1, "failure_probability": 1}},
                                      "second": {"threads": 1, "service_s": 30})");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "1"}, dir.path).status == 0);
  SqlDb db(dir / "stepq.db");
  const std::string victim = kill_when(dir, sc, db,
                                       "SELECT count(*) FROM step t JOIN execution e ON e.step = t.id "
                                       "WHERE t.num = 1 AND t.phase = 6 AND e.ended_at IS NULL");
  const Result r = run_until_idle(dir, sc);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(db.count("SELECT count(*) FROM processor WHERE id = " + victim + " AND stop_reason LIKE 'no heartbeat%'") == 1);
  CHECK(db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL OR outcome IS NULL") == 0);
  CHECK(db.rows("SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM execution ORDER BY step)").at(0).at(0) ==
        "failed,reaped");
  CHECK(db.rows("SELECT group_concat(phase, ',') FROM (SELECT phase FROM step ORDER BY num)").at(0).at(0) == "5,6");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED'") == 1);
}
