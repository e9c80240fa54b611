// An outside witness of exactly-once (issue 19, item 6). The execution log is stepq's own account;
// this test also asks the world. Each session launches, on the `local` platform, four programs that
// append one line each ("session-N step") to a file outside the database, then polls them. Worker
// processes are SIGKILLed while they hold launch steps, one is paused (SIGSTOP) past its lease and
// resumed as a zombie, and the work is finished by the others. Afterwards the file must hold
// exactly one line per launch step — no program started twice, none lost — beside exactly one
// completed execution per step in the log. Run on SQLite (tests/live/test_witness.cpp) and
// PostgreSQL (tests/pg/test_pg_witness.cpp).
#pragma once
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "live/db_check.hpp"
#include "live/history.hpp"
#include "live/processes.hpp"

namespace stepq::test {

template <class Db, class Open>
void witness(const std::vector<std::string>& db_args, Open open) {
  TempDir dir;
  auto with_db = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, db_args.begin(), db_args.end());
    return args;
  };
  const int sessions = 120, launches = 4;
  const std::string file = dir / "witness.log";
  std::string steps = R"({"id": "home", "kind": "storage"})";
  std::string after;
  for (int l = 1; l <= launches; ++l) {
    const std::string id = "go" + std::to_string(l);
    // O_APPEND writes of a short line are atomic: lines from programs running at once never mix.
    steps += R"(, {"id": ")" + id + R"(", "kind": "launch", "after": ["home"], "local": {"program": "sh", "args": )" +
             R"(["-c", "echo \"$(basename \"$PWD\") )" + id + R"(\" >> )" + file + R"("]}})";
    after += (l > 1 ? ", \"" : "\"") + id + "\"";
  }
  steps += R"(, {"id": "done", "kind": "running", "after": [)" + after + "]}";
  // Five attempts: a step reaped from a killed or paused worker runs again as a new attempt.
  std::ofstream(dir / "witness.json") << R"({"name": "witness", "seed": 4, "sessions": )" << sessions << R"(,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "dispatch": {"mode": "notify", "claim_s": 0, "dependencies": "activate"},
    "platform": {"local": {"root": "sessions"}},
    "kinds": {
      "storage": {"op": "storage", "threads": 2, "service_s": {"dist": "constant", "value": 0.001}, "retry": {"max_attempts": 5}},
      "launch": {"op": "launch", "threads": 4, "service_s": {"dist": "constant", "value": 0.001}, "retry": {"max_attempts": 5}},
      "running": {"op": "poll", "threads": 2, "service_s": {"dist": "constant", "value": 0.001}, "retry": {"max_attempts": 5},
                  "poll": {"interval_s": 0.05, "ready_after_s": {"dist": "constant", "value": 0}}}},
    "templates": [{"name": "t", "steps": [)"
                                      << steps << "]}]}";
  const std::vector<std::string> worker = with_db(
      {"live", "run", "witness.json", "--platform", "local", "--until-idle", "--lease", "1", "--heartbeat", "0.2"});
  REQUIRE(run_stepq(with_db({"live", "init"}), dir.path).status == 0);
  const Result sub =
      run_stepq(with_db({"live", "submit", "witness.json", "--sessions", std::to_string(sessions)}), dir.path);
  INFO(sub.err);
  REQUIRE(sub.status == 0);
  Db db = open(dir);

  std::vector<std::unique_ptr<Proc>> procs;
  auto start = [&] {
    procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker), dir.path, "w" + std::to_string(procs.size())));
    const std::string pid = std::to_string(procs.back()->pid());
    REQUIRE(within(20, [&] { return db.count("SELECT count(*) FROM processor WHERE pid = " + pid) == 1; }));
    return db.rows("SELECT id FROM processor WHERE pid = " + pid).at(0).at(0);
  };
  std::vector<std::string> ids;
  for (int w = 0; w < 3; ++w) ids.push_back(start());
  // Launch steps are numbered 1..launches. Catch a worker holding one and stop it there.
  const std::string holds_launch = "SELECT count(*) FROM step WHERE phase = 3 AND num BETWEEN 1 AND " +
                                   std::to_string(launches) + " AND processor = ";
  // Launch steps last milliseconds: stop the worker first, then look (after any statement it had
  // sent has landed); if it holds none, let it go on and try again.
  auto catch_holding = [&](std::size_t w) {
    for (int tries = 0; tries < 2000; ++tries) {
      procs[w]->signal(SIGSTOP);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (db.count(holds_launch + ids[w]) > 0) return;
      procs[w]->signal(SIGCONT);
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + tries % 7));
    }
    FAIL("worker " << w << " was never caught holding a launch step");
  };
  // Two kills, each replaced by a new worker.
  for (std::size_t victim : {1, 3}) {
    catch_holding(victim);
    procs[victim]->signal(SIGKILL);
    CHECK(procs[victim]->wait(10).status == 128 + SIGKILL);
    ids.push_back(start());
  }
  // A pause past the lease: the others reap its steps and run them again; then it resumes.
  const std::size_t zombie = 2;
  catch_holding(zombie);
  REQUIRE(within(20, [&] {
    return db.count("SELECT count(*) FROM processor WHERE stopped_at IS NOT NULL AND id = " + ids[zombie]) == 1;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the reaper reruns its steps meanwhile
  procs[zombie]->signal(SIGCONT);
  for (std::size_t w = 0; w < procs.size(); ++w) {
    if (w == 1 || w == 3) continue;
    const Result r = procs[w]->wait(120);
    INFO("worker " << w << ": " << r.err);
    CHECK(r.status == 0);
  }

  for (const auto& r : db.rows("SELECT id, phase, coalesce(reason, '') FROM session WHERE phase != 'COMPLETED'"))
    UNSCOPED_INFO("session " << r[0] << " " << r[1] << ": " << r[2]);
  REQUIRE(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  // The crash paths were taken: launch executions were reaped from each victim and from the zombie.
  for (const std::string& id : {ids[1], ids[3], ids[zombie]}) {
    INFO("processor " << id);
    CHECK(db.count("SELECT count(*) FROM execution e JOIN step s ON s.id = e.step WHERE e.outcome = 'reaped' AND "
                   "s.num BETWEEN 1 AND " +
                   std::to_string(launches) + " AND e.processor = " + id) > 0);
  }
  // The world's account: one line per launch step, each once.
  std::map<std::string, int> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) ++lines[line];
  CHECK(lines.size() == static_cast<std::size_t>(sessions * launches));
  for (const auto& [line, n] : lines) {
    INFO(line);
    CHECK(n == 1);
  }
  // stepq's account agrees: one completed execution per step, never two at once.
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 4") == sessions * (launches + 2));
  check_no_step_twice(db);
}

}  // namespace stepq::test
