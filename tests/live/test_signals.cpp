// Stopping a worker process: SIGTERM (and SIGINT, the same) stops claiming and lets running steps
// finish within the grace period; past it they go back to READY. Either way the process exits 0,
// nothing stays RUNNING, nothing is lost, and a second run finishes every session.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;

namespace {

constexpr int kSessions = 6;
constexpr double kStep = 1.5;  // wall seconds per step of tests/live/slow.json at --time-scale 1

const char* name(int sig) { return sig == SIGTERM ? "SIGTERM" : "SIGINT"; }

// Is `sig` sent to process `pid` still waiting to be delivered (ShdPnd in /proc/PID/status)?
bool pending(pid_t pid, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("ShdPnd:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1;
  return false;
}

// A database with kSessions submitted sessions of slow.json, and one `live run` of it (no
// --until-idle: it runs until signalled) with both its threads running a step.
struct Running {
  TempDir dir;
  std::string sc = source("tests/live/slow.json");
  std::unique_ptr<Proc> run;
  std::unique_ptr<SqlDb> db;
  std::string processor;

  explicit Running(std::vector<std::string> extra = {}) {
    REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
    REQUIRE(run_stepq({"live", "submit", sc, "--sessions", std::to_string(kSessions)}, dir.path).status == 0);
    std::vector<std::string> args = {"live", "run", sc};
    args.insert(args.end(), extra.begin(), extra.end());
    run = std::make_unique<Proc>(stepq::test::stepq(args), dir.path, "run");
    db = std::make_unique<SqlDb>(dir / "stepq.db");
    REQUIRE(within(20, [&] { return db->count("SELECT count(*) FROM step WHERE phase = 3") == 2; }));
    processor = db->rows("SELECT id FROM processor WHERE pid = " + std::to_string(run->pid())).at(0).at(0);
  }

  // What must hold after any stop: nothing RUNNING, every session still there, this run's
  // executions all closed, the processor marked stopped.
  void nothing_lost() {
    CHECK(db->count("SELECT count(*) FROM step WHERE phase = 3") == 0);
    CHECK(db->count("SELECT count(*) FROM session") == kSessions);
    CHECK(db->count("SELECT count(*) FROM step") == kSessions);
    CHECK(db->count("SELECT count(*) FROM session WHERE phase NOT IN ('ACTIVE', 'COMPLETED')") == 0);
    // Nothing claimed after the signal.
    CHECK(db->count("SELECT count(*) FROM execution WHERE processor = " + processor) == 2);
    CHECK(db->count("SELECT count(*) FROM execution WHERE ended_at IS NULL OR outcome IS NULL") == 0);
    CHECK(db->count("SELECT count(*) FROM processor WHERE stopped_at IS NULL") == 0);
  }

  // A second run (fast: --time-scale 0.05) finishes every session, each step completed once.
  void second_run_finishes() {
    const Result again = run_stepq({"live", "run", sc, "--until-idle", "--time-scale", "0.05"}, dir.path, 60);
    INFO(again.err);
    CHECK(again.status == 0);
    CHECK(db->count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == kSessions);
    CHECK(db->count("SELECT count(*) FROM step WHERE phase = 4") == kSessions);
    CHECK(db->count("SELECT count(*) FROM execution WHERE outcome = 'completed'") == kSessions);
    CHECK(db->count("SELECT count(*) FROM execution WHERE ended_at IS NULL") == 0);
    // A step run in both processes: the first run's execution ended before the second's began.
    CHECK(db->count("SELECT count(*) FROM execution a JOIN execution b ON b.step = a.step AND b.fence > a.fence "
                    "WHERE b.started_at < a.ended_at") == 0);
  }
};

// Stop signal with the default grace period (30 s): the two running steps finish, then exit 0.
void graceful(int sig) {
  Running r;
  const auto t0 = std::chrono::steady_clock::now();
  r.run->signal(sig);
  const Result res = r.run->wait(40);
  const double took = since(t0);
  INFO(name(sig) << ": exit " << res.status << " after " << took << " s; stderr: " << res.err);
  CHECK(res.status == 0);
  CHECK(took < kStep + 3);  // the running steps' remaining time, not the 30 s grace period
  CHECK_THAT(res.err, Catch::Contains("stopped by signal") && Catch::Contains("released 0"));
  r.nothing_lost();
  // The two steps it held ran to the end under it; the rest wait, READY, for another run.
  CHECK(r.db->count("SELECT count(*) FROM execution WHERE outcome = 'completed' AND processor = " + r.processor) == 2);
  CHECK(r.db->count("SELECT count(*) FROM step WHERE phase = 4") == 2);
  CHECK(r.db->count("SELECT count(*) FROM step WHERE phase = 2") == kSessions - 2);
  CHECK(r.db->rows("SELECT stop_reason FROM processor WHERE id = " + r.processor).at(0).at(0) == "stopped (signal)");
  r.second_run_finishes();
}

// Stop signal with --grace 0.2 while steps need 1.5 s: they go back to READY, then exit 0.
void past_grace(int sig) {
  Running r({"--grace", "0.2"});
  const auto t0 = std::chrono::steady_clock::now();
  r.run->signal(sig);
  const Result res = r.run->wait(20);
  const double took = since(t0);
  INFO(name(sig) << ": exit " << res.status << " after " << took << " s; stderr: " << res.err);
  CHECK(res.status == 0);
  CHECK(took >= 0.2);         // it gave them the grace period
  CHECK(took < kStep - 0.3);  // and no more: it did not wait for them
  CHECK_THAT(res.err, Catch::Contains("stopped by signal") && Catch::Contains("released 2"));
  r.nothing_lost();
  // The two steps it held are READY again, same attempt (a release is not a failure).
  CHECK(r.db->count("SELECT count(*) FROM execution WHERE outcome = 'released' AND processor = " + r.processor) == 2);
  CHECK(r.db->count("SELECT count(*) FROM step WHERE phase = 2") == kSessions);
  CHECK(r.db->count("SELECT count(*) FROM step WHERE attempt != 1") == 0);
  CHECK_THAT(r.db->rows("SELECT stop_reason FROM processor WHERE id = " + r.processor).at(0).at(0),
             Catch::Contains("released 2"));
  r.second_run_finishes();
  // The released steps ran again, to completion, in the second run.
  CHECK(r.db->count("SELECT count(*) FROM execution e JOIN execution c ON c.step = e.step AND c.outcome = 'completed' "
                    "WHERE e.outcome = 'released' AND c.processor != e.processor") == 2);
}

}  // namespace

TEST_CASE("signals: SIGTERM lets running steps finish, exits 0, leaves nothing RUNNING, loses nothing") {
  graceful(SIGTERM);
}

TEST_CASE("signals: SIGINT behaves like SIGTERM: running steps finish, exit 0, nothing lost") { graceful(SIGINT); }

TEST_CASE(
    "signals: SIGTERM past --grace 0.2 releases running steps back to READY, exits 0, a second run finishes them") {
  past_grace(SIGTERM);
}

TEST_CASE("signals: SIGINT past --grace 0.2 releases running steps like SIGTERM") { past_grace(SIGINT); }

TEST_CASE("signals: a second SIGTERM cuts the grace period short and releases the running steps") {
  Running r;
  const auto t0 = std::chrono::steady_clock::now();
  r.run->signal(SIGTERM);
  // Two signals sent back to back may merge into one (POSIX does not queue them): send the second
  // once the first has been delivered.
  REQUIRE(within(5, [&] { return !pending(r.run->pid(), SIGTERM); }));
  r.run->signal(SIGTERM);
  const Result res = r.run->wait(20);
  INFO("stderr: " << res.err);
  CHECK(res.status == 0);
  CHECK(since(t0) < kStep - 0.3);
  CHECK_THAT(res.err, Catch::Contains("released 2"));
  r.nothing_lost();
  CHECK(r.db->count("SELECT count(*) FROM step WHERE phase = 2") == kSessions);
  r.second_run_finishes();
}

TEST_CASE("signals: past the grace period, the execution of a step cancelled while it ran is closed too") {
  // The first step fails at once and fails its session, cancelling the second while it runs (its
  // result will be dropped); the stop then comes before that second step ends.
  TempDir dir;
  const std::string sc = dir / "cancelled.json";
  std::ofstream(sc) << R"({"name": "cancelled", "seed": 1, "sessions": 1,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"first": {"threads": 1, "service_s": 0.1, "retry": {"max_attempts": 1, "failure_probability": 1}},
              "second": {"threads": 1, "service_s": 30}},
    "templates": [{"name": "t", "steps": [{"id": "one", "kind": "first"}, {"id": "two", "kind": "second"}]}]})";
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "1"}, dir.path).status == 0);
  Proc run(stepq::test::stepq({"live", "run", sc, "--grace", "0.2"}), dir.path, "run");
  SqlDb db(dir / "stepq.db");
  REQUIRE(within(20, [&] {
    return db.count(
               "SELECT count(*) FROM step t JOIN execution e ON e.step = t.id "
               "WHERE t.num = 1 AND t.phase = 6 AND e.ended_at IS NULL") == 1;
  }));
  run.signal(SIGTERM);
  const Result res = run.wait(20);
  INFO("stderr: " << res.err);
  CHECK(res.status == 0);
  CHECK(db.count("SELECT count(*) FROM execution WHERE ended_at IS NULL OR outcome IS NULL") == 0);
  CHECK(db.rows("SELECT group_concat(phase, ',') FROM (SELECT phase FROM step ORDER BY num)").at(0).at(0) == "5,6");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED'") == 1);
  CHECK(db.count("SELECT count(*) FROM processor WHERE stopped_at IS NULL") == 0);
}
