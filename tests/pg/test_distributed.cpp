// Many `stepq live run` processes on one PostgreSQL database: every step exactly once when no
// process dies; a SIGKILLed process's steps reaped after its lease and run again; a server
// restart mid-run survived without losing or repeating work; and a worker on another "machine"
// (a network namespace) reaching the server over TCP.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <functional>
#include <memory>

#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "live/history.hpp"
#include "pg/pg_check.hpp"
#include "pg/own_server.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

namespace {

const std::string kScenario = source("tests/pg/distributed.json");

std::vector<std::string> worker_args(const std::string& url, const std::vector<std::string>& more = {}) {
  std::vector<std::string> a = {"live", "run", kScenario, "--db", url, "--time-scale", "0.0002", "--until-idle"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

void wait_all(std::vector<std::unique_ptr<Proc>>& procs, double timeout_s, std::size_t skip = SIZE_MAX) {
  for (std::size_t i = 0; i < procs.size(); ++i) {
    if (i == skip) continue;
    const Result r = procs[i]->wait(timeout_s);
    INFO("worker " << i << ": " << r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("stopped by idle"));
  }
}

}  // namespace

TEST_CASE("distributed claim: 4 processes x 8 threads on 10000 sessions execute every step exactly once") {
  TempDir dir;
  const std::string url = fresh_pg_url("distributed");
  const int sessions = 10000;
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  std::vector<std::unique_ptr<Proc>> procs;
  for (int i = 0; i < 4; ++i)
    procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker_args(url)), dir.path, "w" + std::to_string(i)));
  // Submitted while the workers run: new sessions reach idle processes through notifications.
  const Result sub = run_stepq({"live", "submit", kScenario, "--db", url, "--sessions", std::to_string(sessions), "-q"},
                               dir.path, 300);
  INFO(sub.err);
  REQUIRE(sub.status == 0);
  wait_all(procs, 300);

  PgDb db(url);
  check_all_ended(db, sessions);
  check_no_step_twice(db);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  // Exactly once: one execution per step, each completed at its first attempt.
  CHECK(db.count("SELECT count(*) FROM step") == 4 * sessions);
  CHECK(db.count("SELECT count(*) FROM execution") == 4 * sessions);
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome != 'completed' OR attempt != 1") == 0);
  // All four took part, none was taken for dead.
  CHECK(db.count("SELECT count(*) FROM processor") == 4);
  CHECK(db.count("SELECT count(*) FROM processor WHERE stop_reason != 'stopped (idle)'") == 0);
  for (const auto& r : db.rows("SELECT processor, count(*) FROM execution GROUP BY processor")) {
    INFO("processor " << r[0] << " ran " << r[1] << " steps");
    CHECK(std::stoll(r[1]) > sessions / 4);  // a fair share: 4 x 8 threads on 40,000 steps
  }
}

TEST_CASE("distributed crash: a SIGKILLed process's steps are reaped within the lease and run again elsewhere") {
  TempDir dir;
  const std::string url = fresh_pg_url("crash");
  const int sessions = 4000;
  // 2 s: with a lease of 1 s, under ctest -j2 beside a CPU-bound validation test, a live worker's
  // heartbeat once came late and it was declared dead (its steps reaped while it ran them).
  const double lease = 2;
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  REQUIRE(
      run_stepq({"live", "submit", kScenario, "--db", url, "--sessions", std::to_string(sessions), "-q"}, dir.path, 300)
          .status == 0);
  // The victim (worker 2) runs at a slower time scale, so that its steps take ~0.1-1 s and it
  // always holds some when it is killed; the others are limited by the database.
  std::vector<std::unique_ptr<Proc>> procs;
  // The victim's connections carry a name: a server commits what a killed client had already
  // sent, so what it held is read only once they are gone.
  const std::string victim_url = url + (url.find('?') == std::string::npos ? "?" : "&") + "application_name=victim";
  for (int i = 0; i < 4; ++i) {
    auto args = worker_args(i == 2 ? victim_url : url, {"--lease", "2", "--heartbeat", "0.2"});
    if (i == 2) args[6] = "0.05";
    procs.push_back(std::make_unique<Proc>(stepq::test::stepq(args), dir.path, "w" + std::to_string(i)));
  }
  PgDb db(url);
  const std::string victim_pid = std::to_string(procs[2]->pid());
  REQUIRE(within(30, [&] { return db.count("SELECT count(*) FROM processor WHERE pid = " + victim_pid) == 1; }));
  const std::string vid = db.rows("SELECT id FROM processor WHERE pid = " + victim_pid).at(0).at(0);
  const bool victim_busy = within(60, [&] {
    return db.count("SELECT count(*) FROM step WHERE phase = 4") > sessions &&
           db.count("SELECT count(*) FROM step WHERE phase = 3 AND processor = " + vid) > 0;
  });
  if (!victim_busy) {  // say why: a victim taken for dead, or the others done before it held a step
    INFO("steps completed: " << db.count("SELECT count(*) FROM step WHERE phase = 4") << " of " << 4 * sessions);
    INFO("processors: "
         << db.rows("SELECT id, pid, coalesce(stop_reason, 'running') FROM processor ORDER BY id").size());
    for (const auto& r : db.rows("SELECT id, coalesce(stop_reason, 'running') FROM processor ORDER BY id"))
      UNSCOPED_INFO("processor " << r[0] << ": " << r[1]);
    FAIL("the victim never held a running step once a quarter of the work was done");
  }
  procs[2]->signal(SIGKILL);
  CHECK(procs[2]->wait(10).status == 128 + SIGKILL);
  REQUIRE(within(
      30, [&] { return db.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'") == 0; }));
  const auto held = db.rows("SELECT step, fence FROM execution WHERE processor = " + vid +
                            " AND (ended_at IS NULL OR outcome = 'reaped') ORDER BY step");
  INFO("the victim held " << held.size() << " steps when it was killed");
  REQUIRE(!held.empty());
  REQUIRE(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") > 100);  // work left for the others
  wait_all(procs, 300, 2);

  check_all_ended(db, sessions);
  check_no_step_twice(db);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  // Exactly what it held was reaped, after a full lease from its last heartbeat and within one
  // more (the reaper runs with every heartbeat, 0.2 s).
  CHECK(db.rows("SELECT step, fence FROM execution WHERE outcome = 'reaped' ORDER BY step") == held);
  const double last_beat = db.real("SELECT heartbeat_at FROM processor WHERE id = " + vid);
  const double first = db.real("SELECT min(ended_at) FROM execution WHERE outcome = 'reaped'");
  const double last = db.real("SELECT max(ended_at) FROM execution WHERE outcome = 'reaped'");
  INFO("reaped " << first - last_beat << " to " << last - last_beat << " s after the last heartbeat");
  CHECK(first - last_beat >= lease);
  CHECK(last - last_beat <= lease + 1.0);
  CHECK(last - first < 0.2);  // in one pass
  CHECK_THAT(db.rows("SELECT stop_reason FROM processor WHERE id = " + vid).at(0).at(0),
             Catch::Contains("no heartbeat"));
  // Each ran again under another processor, as attempt 2, and completed.
  for (const auto& r : held)
    CHECK(db.count("SELECT count(*) FROM execution WHERE step = " + r[0] +
                   " AND outcome = 'completed' AND attempt = 2 "
                   "AND processor != " +
                   vid + " AND fence > " + r[1]) == 1);
  CHECK(db.count("SELECT count(*) FROM processor") == 4);  // no live process was taken for dead
}

TEST_CASE(
    "distributed restart: the server restarts mid-run and the workers reconnect and finish with nothing lost or "
    "repeated") {
  OwnServer server;
  TempDir dir;
  const std::string url = pg_url_with_db(server.url, "restart");
  const int sessions = 3000;
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  REQUIRE(
      run_stepq({"live", "submit", kScenario, "--db", url, "--sessions", std::to_string(sessions), "-q"}, dir.path, 300)
          .status == 0);
  std::vector<std::unique_ptr<Proc>> procs;
  for (int i = 0; i < 3; ++i)
    procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker_args(url, {"--lease", "10"})), dir.path,
                                           "w" + std::to_string(i)));
  {
    PgDb db(url);
    REQUIRE(within(60, [&] { return db.count("SELECT count(*) FROM step WHERE phase = 4") > sessions; }));
  }
  const Result r = OwnServer::run(server.dir, {source("scripts/pg_server.sh"), "restart", server.dir / "pg"}, 60);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::vector<std::string> errs;
  for (auto& p : procs) {
    const Result w = p->wait(300);
    INFO(w.err);
    CHECK(w.status == 0);
    CHECK_THAT(w.err, Catch::Contains("lost the database connection"));
    CHECK_THAT(w.err, Catch::Contains("stopped by idle"));
  }
  PgDb db(url);
  check_all_ended(db, sessions);
  check_no_step_twice(db);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  // Nothing repeated: writes cut off by the restart were looked up after reconnecting (claims by
  // token, finishes in the execution log), not done again.
  CHECK(db.count("SELECT count(*) FROM execution") == 4 * sessions);
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome != 'completed'") == 0);
  CHECK(db.count("SELECT count(*) FROM processor WHERE reconnects > 0") == 3);
  const Result st = run_stepq({"live", "status", "--db", url}, dir.path);
  CHECK_THAT(st.out, Catch::Contains("reconnected"));
}

TEST_CASE("distributed hosts: a worker in its own network namespace reaches the server over TCP") {
  OwnServer server("0.0.0.0");
  TempDir dir;
  const std::string port = server.port();
  const std::string ns = "stepq" + std::to_string(getpid() % 100000);
  const std::string host_if = "sqh" + std::to_string(getpid() % 100000),
                    ns_if = "sqn" + std::to_string(getpid() % 100000);
  const std::string net = "10.231." + std::to_string(getpid() % 250);
  auto sh = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; };
  // STEPQ_TEST_NO_NETNS=1 tries the path of a machine without them.
  const bool have_netns =
      !std::getenv("STEPQ_TEST_NO_NETNS") && sh("ip netns add " + ns) &&
      sh("ip link add " + host_if + " type veth peer name " + ns_if) && sh("ip link set " + ns_if + " netns " + ns) &&
      sh("ip addr add " + net + ".1/24 dev " + host_if) && sh("ip link set " + host_if + " up") &&
      sh("ip netns exec " + ns + " ip addr add " + net + ".2/24 dev " + ns_if) &&
      sh("ip netns exec " + ns + " ip link set " + ns_if + " up") && sh("ip netns exec " + ns + " ip link set lo up");
  struct Cleanup {
    std::function<void()> f;
    ~Cleanup() { f(); }
  } cleanup{[&] {
    sh("ip netns del " + ns);
    sh("ip link del " + host_if);
  }};
  if (!have_netns) {
    // A skip CTest reports as one (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt), not a pass:
    // what this test is for cannot be shown here. Processes over loopback TCP are the other
    // distributed tests' ground.
    std::cout << "SKIPPED: network namespaces unavailable here (ip netns add failed: not root, or no "
                 "CAP_NET_ADMIN)"
              << std::endl;
    return;
  }
  const std::vector<std::string> prefix = {"/usr/sbin/ip", "netns", "exec", ns};
  const std::string remote_host = net + ".1";
  const std::string db = "hosts";
  const std::string local_url = pg_url_with_db(server.url, db);
  const std::string remote_url = "postgresql://postgres@" + remote_host + ":" + port + "/" + db;
  {  // the namespace really is another host: the server's loopback is not its own
    std::vector<std::string> a = prefix;
    a.push_back(STEPQ_BINARY);
    for (const char* s : {"live", "status", "--db"}) a.push_back(s);
    a.push_back("postgresql://postgres@127.0.0.1:" + port + "/postgres?connect_timeout=2");
    Proc p(a, dir.path, "loopback");
    const Result r = p.wait(30);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("cannot connect"));
  }
  const int sessions = 1000;
  REQUIRE(run_stepq({"live", "init", "--db", local_url}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", kScenario, "--db", local_url, "--sessions", std::to_string(sessions), "-q"},
                    dir.path)
              .status == 0);
  std::vector<std::string> remote = prefix;
  for (auto& a : stepq::test::stepq(worker_args(remote_url))) remote.push_back(a);
  std::vector<std::unique_ptr<Proc>> procs;
  procs.push_back(std::make_unique<Proc>(remote, dir.path, "remote"));
  procs.push_back(std::make_unique<Proc>(stepq::test::stepq(worker_args(local_url)), dir.path, "local"));
  const std::string remote_pid = std::to_string(procs[0]->pid());
  wait_all(procs, 300);

  PgDb check(local_url);
  check_all_ended(check, sessions);
  check_no_step_twice(check);
  CHECK(check.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  CHECK(check.count("SELECT count(*) FROM processor") == 2);
  // Both did a share of the work (`ip netns exec` execs stepq: the pid is the worker's).
  for (const auto& r :
       check.rows("SELECT p.pid, count(*) FROM execution e JOIN processor p ON p.id = e.processor GROUP BY p.pid")) {
    INFO("pid " << r[0] << " ran " << r[1] << " steps");
    CHECK(std::stoll(r[1]) > sessions / 2);
  }
  CHECK(check.count("SELECT count(*) FROM processor WHERE pid = " + remote_pid) == 1);
}

TEST_CASE("distributed wake-up: an idle worker claims a step another process submitted within milliseconds") {
  // Idle workers also look at the database every 0.1 s (the fallback poll); sessions arriving at random
  // times would then wait 50 ms on average and up to 100. Through LISTEN/NOTIFY they wait a few.
  TempDir dir;
  const std::string url = fresh_pg_url("wakeup");
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  Proc worker(stepq::test::stepq({"live", "run", kScenario, "--db", url, "--time-scale", "0.0002", "--for", "30"}),
              dir.path, "worker");
  PgDb db(url);
  REQUIRE(within(20, [&] { return db.count("SELECT count(*) FROM processor") == 1; }));
  const Result sub =
      run_stepq({"live", "submit", kScenario, "--db", url, "--sessions", "12", "--rate", "4", "-q"}, dir.path);
  REQUIRE(sub.status == 0);
  REQUIRE(within(20, [&] { return db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 12; }));
  worker.signal(SIGTERM);
  CHECK(worker.wait(30).status == 0);
  // Root steps: READY when submitted by the other process, claimed by the idle worker. Through
  // the fallback poll alone they would wait 0-100 ms, 50 ms at the median (measured: 62 ms on
  // average with LISTEN taken out); through LISTEN/NOTIFY a few ms (2-6 on average). The median
  // and a count tell the two apart without hanging on one late wake-up: under ctest -j2 beside a
  // CPU-bound test one root once waited 143 ms while the average stayed at 19 ms.
  const auto w = db.rows(
      "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY e.started_at - e.ready_at), "
      "avg(e.started_at - e.ready_at), count(*) FILTER (WHERE e.started_at - e.ready_at > 0.06), "
      "count(*) FROM execution e JOIN step s ON s.id = e.step WHERE s.num IN (0, 1)");
  INFO("root steps waited " << w[0][0] << " s at the median, " << w[0][1] << " s on average; " << w[0][2] << " of "
                            << w[0][3] << " over 60 ms");
  CHECK(std::stod(w[0][0]) < 0.02);
  CHECK(std::stoi(w[0][2]) <= 2);
}
