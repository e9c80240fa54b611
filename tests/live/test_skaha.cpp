// `stepq live run --platforms FILE` with the image, launch, poll and delete kinds on the skaha
// adapter, against tests/skaha/skaha_server.py (the Skaha session API on 127.0.0.1, with faults
// switched on by each test); the data kind stays emulated. Every test checks on the server that
// exactly one Skaha session was made per launch step and that release deleted each one, and
// that the bearer token appears in no output and not in the database file.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>

#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "skaha/skaha_server.hpp"

using namespace stepq::test;

namespace {

const char* const kToken = "skaha-TOKEN-7c1f9e-must-never-leak";
const char* const kGood = "images.canfar.net/skaha/astroml:24.03";
const char* const kFails = "images.canfar.net/skaha/fail-on-start:1";

// Two templates alike but for the image the platforms file gives each: "broken" is scripted to fail.
// Scenario seconds: at --time-scale 0.02 a poll interval of 10 is 0.2 s, run_s 20 is 0.4 s.
const std::string kScenario = R"({"name": "sk", "seed": 3, "sessions": 8,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {
    "image": {"op": "image", "threads": 2, "service_s": 1, "retry": {"max_attempts": 3, "backoff_s": 1}},
    "stage": {"op": "data", "threads": 2, "service_s": 2, "retry": {"max_attempts": 3, "backoff_s": 1}},
    "launch": {"op": "launch", "threads": 2, "service_s": 1, "retry": {"max_attempts": 3, "backoff_s": 1}},
    "poll": {"op": "poll", "threads": 2, "poll": {"interval_s": 10, "ready_after_s": 1},
             "retry": {"max_attempts": 2, "backoff_s": 1}},
    "delete": {"op": "delete", "threads": 2, "service_s": 1, "retry": {"max_attempts": 3, "backoff_s": 1}}},
  "templates": [
    {"name": "batch", "session": {"run_s": 20},
     "steps": [{"id": "image", "kind": "image"}, {"id": "data", "kind": "stage"},
               {"id": "launch", "kind": "launch", "after": ["image", "data"]},
               {"id": "running", "kind": "poll", "after": ["launch"]}],
     "release": [{"id": "delete", "kind": "delete"}]},
    {"name": "broken", "session": {"run_s": 20},
     "steps": [{"id": "image", "kind": "image"}, {"id": "data", "kind": "stage"},
               {"id": "launch", "kind": "launch", "after": ["image", "data"]},
               {"id": "running", "kind": "poll", "after": ["launch"]}],
     "release": [{"id": "delete", "kind": "delete"}]}]})";

std::string write(const TempDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d / name) << text;
  return d / name;
}

// The platforms file: every Skaha kind shares url and token; `launch` holds the launch's settings.
std::string platforms(const SkahaServer& s, const std::string& images, const std::string& launch) {
  return R"({"instance": "t1",
    "adapters": {"skaha": {"url": ")" +
         s.url + R"(", "token_env": "STEPQ_TEST_SKAHA_TOKEN", "total_timeout_s": 1.5,
                           "connect_timeout_s": 1, )" +
         images + R"(}},
    "kinds": {"image": {"adapter": "skaha"}, "launch": {"adapter": "skaha")" +
         (launch.empty() ? "" : ", " + launch) + R"(}, "poll": {"adapter": "skaha"}, "delete": {"adapter": "skaha"}}})";
}

std::string images(const std::string& broken = kGood) {
  return R"("images": {"batch": ")" + std::string(kGood) + R"(", "broken": ")" + broken + R"("})";
}

// Submits `n` sessions and runs them to the end.
Result run(const TempDir& d, int n, const std::string& scale = "0.02") {
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", std::to_string(n), "-q"}, d.path).status == 0);
  return run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", scale, "--until-idle"}, d.path,
                   180);
}

struct Setup {
  TempDir d;
  Setup() {
    ::setenv("STEPQ_TEST_SKAHA_TOKEN", kToken, 1);
    write(d, "s.json", kScenario);
    REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  }
};

// On the server: each stepq session's launch made exactly one Skaha session (one POST), and each
// Skaha session was deleted.
void one_session_per_launch_all_deleted(SqlDb& db, const nlohmann::json& st) {
  const auto ids = db.rows("SELECT id FROM session");
  REQUIRE(!ids.empty());
  std::map<std::string, int> made;
  for (const auto& s : st["sessions"]) {
    ++made[s["name"].get<std::string>()];
    INFO(s.dump());
    CHECK(s["deleted"].get<bool>());
  }
  CHECK(made.size() == ids.size());
  for (const auto& r : ids) {
    const std::string name = "t1-" + r[0] + "-launch";
    INFO(name << "\n" << st.dump());
    CHECK(made[name] == 1);
    CHECK(st["posts"].value(name, 0) == 1);
  }
  CHECK(st["token_in_url"] == 0);
}

void no_token_anywhere(const TempDir& d, const std::vector<Result>& results) {
  for (const auto& r : results) {
    CHECK(r.out.find(kToken) == std::string::npos);
    CHECK(r.err.find(kToken) == std::string::npos);
  }
  for (const char* f : {"stepq.db", "stepq.db-wal"}) {
    const std::string bytes = Proc::slurp(d / f);
    CHECK(bytes.find(kToken) == std::string::npos);
  }
}

long long steps(SqlDb& db, const std::string& kind, const std::string& where) {
  return db.count("SELECT count(*) FROM step st JOIN kind k ON k.id = st.kind WHERE k.name = '" + kind + "' AND " +
                  where);
}

}  // namespace

TEST_CASE("live skaha: sessions launch, run and are deleted on the Skaha API, one Skaha session per launch step") {
  Setup s;
  SkahaServer server({"--token", kToken, "--pending", "0.3", "--run", "0.3"});
  write(s.d, "p.json",
        platforms(server, images(),
                  R"("cores": 2, "ram": 8, "cmd": "/opt/run.sh", "args": "--in /arc/x",
                                    "env": {"JOB_ID": "7", "MODE": "fast"})"));
  const Result r = run(s.d, 6);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 6);
  const auto st = server.state();
  one_session_per_launch_all_deleted(db, st);
  // What launch sent is what the session holds.
  for (const auto& x : st["sessions"]) {
    CHECK(x["image"] == kGood);
    CHECK(x["type"] == "headless");
    CHECK(x["cmd"] == "/opt/run.sh");
    CHECK(x["args"] == "--in /arc/x");
    CHECK(x["env"] == nlohmann::json({{"JOB_ID", "7"}, {"MODE", "fast"}}));
    CHECK(x["cores"] == 2);
    CHECK(x["ram"] == 8);
  }
  // The image step asked Skaha's image list; the poll saw Pending before Running (it waited).
  CHECK(st["calls"].value("GET image", 0) == 6);
  CHECK(st["calls"].value("GET session/{id}", 0) > 6);
  CHECK(db.count("SELECT count(*) FROM step WHERE attempt > 1") == 0);
  no_token_anywhere(s.d, {r});
}

TEST_CASE("live skaha: 503 bursts with Retry-After are waited out without spending attempts") {
  Setup s;
  SkahaServer server({"--token", kToken, "--pending", "0.2", "--run", "0.2"});
  write(s.d, "p.json", platforms(server, images(), ""));
  server.control({{"fail_503", 12}});
  const Result r = run(s.d, 4);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 4);
  const auto st = server.state();
  CHECK(st["faults"]["fail_503"] == 0);  // all 12 were answered
  one_session_per_launch_all_deleted(db, st);
  CHECK(db.count("SELECT count(*) FROM step WHERE attempt > 1") == 0);
}

TEST_CASE("live skaha: a POST performed whose reply is lost or late is not made twice") {
  Setup s;
  SkahaServer server({"--token", kToken, "--pending", "0.2", "--run", "0.2"});
  write(s.d, "p.json", platforms(server, images(), ""));
  // Two launches lose the reply (connection closed), one gets it after its 1.5 s timeout.
  server.control({{"drop_post", 2}, {"slow_post", 1}, {"slow_s", 2.5}});
  const Result r = run(s.d, 5);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 5);
  const auto st = server.state();
  CHECK(st["faults"]["drop_post"] == 0);
  CHECK(st["faults"]["slow_post"] == 0);
  one_session_per_launch_all_deleted(db, st);
  // The three launches whose reply went missing ran again, found their session and adopted it.
  CHECK(steps(db, "launch", "attempt = 2") == 3);
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'retry' AND (reason LIKE '%no answer%' OR "
                 "reason LIKE '%timed out%')") == 3);
}

TEST_CASE("live skaha: a worker killed after Skaha made its session, before the step finished: a second makes none") {
  Setup s;
  SkahaServer server({"--token", kToken, "--pending", "0.3", "--run", "0.3"});
  write(s.d, "p.json", platforms(server, images(), "\"total_timeout_s\": 30"));
  // The first POST is performed at once and answered 20 s later: its worker dies waiting.
  server.control({{"slow_post", 1}, {"slow_s", 20}});
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", "3", "-q"}, s.d.path).status == 0);
  SqlDb db(s.d / "stepq.db");
  {
    const auto args = stepq::test::stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.02",
                                          "--lease", "1", "--heartbeat", "0.2"});
    Proc victim(args, s.d.path, "victim");
    REQUIRE(within(30, [&] { return server.state()["faults"]["slow_post"] == 0; }));
    REQUIRE(steps(db, "launch", "phase = 3") >= 1);  // RUNNING: its session exists, the step does not know
    victim.signal(SIGKILL);
    REQUIRE(victim.wait(10).status == 128 + SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // its lease runs out
  const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.02", "--lease", "1",
                              "--heartbeat", "0.2", "--until-idle"},
                             s.d.path, 120);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 3);
  one_session_per_launch_all_deleted(db, server.state());
  // The killed launch ran again: it found the session its first run had made.
  CHECK(db.count("SELECT count(*) FROM execution e JOIN kind k ON k.id = e.kind WHERE k.name = 'launch'") >= 4);
}

TEST_CASE("live skaha: the per-user session limit makes launches wait, not fail") {
  Setup s;
  // Interactive sessions run until deleted; one at a time per user.
  SkahaServer server({"--token", kToken, "--pending", "0.2", "--run", "600", "--max-sessions", "1"});
  write(s.d, "p.json", platforms(server, images(), R"("type": "notebook", "limit_wait_s": 10)"));
  const Result r = run(s.d, 3);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 3);
  const auto st = server.state();
  one_session_per_launch_all_deleted(db, st);
  for (const auto& x : st["sessions"]) CHECK(x["type"] == "notebook");
  // Refused POSTs happened (more POSTs than sessions) and cost no attempt: they waited.
  CHECK(st["calls"]["POST session"].get<int>() > 3);
  CHECK(steps(db, "launch", "attempt = 1") == 3);
  const auto waits = db.count(
      "SELECT count(*) FROM execution e JOIN kind k ON k.id = e.kind "
      "WHERE k.name = 'launch' AND e.outcome = 'requeue'");
  CHECK(waits >= 2);
  CHECK(db.count("SELECT count(*) FROM session WHERE reason IS NOT NULL") == 0);
}

TEST_CASE("live skaha: a failed Skaha session fails its stepq session with the status and its log, and is deleted") {
  Setup s;
  // run 0: a failing session goes from Pending straight to Failed, as a job that dies at start.
  SkahaServer server(
      {"--token", kToken, "--pending", "0.2", "--run", "0", "--images", std::string(kGood) + "," + kFails});
  write(s.d, "p.json", platforms(server, images(kFails), ""));
  const Result r = run(s.d, 8);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  const auto tmpl = [&](const std::string& name, const std::string& where) {
    return db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template WHERE t.name = '" + name +
                    "'" + where);
  };
  REQUIRE(tmpl("broken", "") > 0);
  REQUIRE(tmpl("batch", "") > 0);
  CHECK(tmpl("batch", " AND s.phase = 'COMPLETED'") == tmpl("batch", ""));
  CHECK(tmpl("broken",
             " AND s.phase = 'FAILED' AND s.reason LIKE '%ended Failed;%' AND "
             "s.reason LIKE '%ERROR: calibration diverged, exit code 3%'") == tmpl("broken", ""));
  // A failed Skaha session stays failed: the poll gave up at once, whatever its retry policy.
  CHECK(steps(db, "poll", "phase = 5 AND attempt = 1") == tmpl("broken", ""));
  for (const auto& row : db.rows("SELECT reason FROM session WHERE phase = 'FAILED'")) {
    INFO(row[0]);
    CHECK(row[0].size() < 2600);  // the log's end, not all of it
  }
  // Compensation: the release step deleted the failed sessions too.
  one_session_per_launch_all_deleted(db, server.state());
  no_token_anywhere(s.d, {r});
}

TEST_CASE("live skaha: an image Skaha does not offer, and a session gone before it was seen running, fail at once") {
  Setup s;
  // --ttl 0: a session disappears (404) the moment it ends, as a headless Job an hour after.
  SkahaServer server({"--token", kToken, "--pending", "0.2", "--run", "0", "--ttl", "0"});
  write(s.d, "p.json", platforms(server, images("images.canfar.net/skaha/other:9"), ""));
  const Result r = run(s.d, 8);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  const auto of = [&](const std::string& name, const std::string& where) {
    return db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template WHERE t.name = '" + name +
                    "'" + where);
  };
  REQUIRE(of("broken", "") > 0);
  REQUIRE(of("batch", "") > 0);
  CHECK(of("broken",
           " AND s.phase = 'FAILED' AND s.reason LIKE '%image not offered by Skaha: "
           "images.canfar.net/skaha/other:9 (type headless, 1 images offered)%'") == of("broken", ""));
  CHECK(of("batch", " AND s.phase = 'FAILED' AND s.reason LIKE '%(t1-%-launch) is gone (HTTP 404)%'") ==
        of("batch", ""));
  CHECK(db.count("SELECT count(*) FROM step WHERE phase = 5 AND attempt > 1") == 0);
  // Only the sessions whose image is offered were launched, once each.
  const auto st = server.state();
  CHECK(st["sessions"].size() == static_cast<std::size_t>(of("batch", "")));
  for (const auto& [name, n] : st["posts"].items()) CHECK(n == 1);
}

TEST_CASE("live skaha: the old status vocabulary (Succeeded, Failed (DeadlineExceeded), Error) is understood") {
  Setup s;
  SkahaServer server(
      {"--token", kToken, "--pending", "0.2", "--run", "0", "--images", std::string(kGood) + "," + kFails});
  write(s.d, "p.json", platforms(server, images(kFails), ""));
  SqlDb db(s.d / "stepq.db");
  const auto broken = [&](const std::string& where) {
    return db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template WHERE t.name = 'broken'" +
                    where);
  };
  server.control({{"vocab", "old"}});
  const Result r1 = run(s.d, 8);
  INFO(r1.err);
  REQUIRE(r1.status == 0);
  const auto broken1 = broken("");
  REQUIRE(broken1 > 0);
  CHECK(db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template "
                 "WHERE t.name = 'batch' AND s.phase = 'COMPLETED'") == 8 - broken1);
  CHECK(broken(" AND s.phase = 'FAILED' AND s.reason LIKE '%ended Failed (DeadlineExceeded);%'") == broken1);

  server.control({{"vocab", "error"}});
  const Result r2 = run(s.d, 8);
  INFO(r2.err);
  REQUIRE(r2.status == 0);
  CHECK(broken(" AND s.id >= 8 AND s.phase = 'FAILED' AND s.reason LIKE '%ended Error;%'") == broken(" AND s.id >= 8"));
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'ACTIVE'") == 0);
  one_session_per_launch_all_deleted(db, server.state());
}

TEST_CASE("live skaha: a refused token fails the sessions naming HTTP 401, never showing the token") {
  Setup s;
  SkahaServer server({"--token", kToken});
  write(s.d, "p.json", platforms(server, images(), ""));
  server.control({{"token", "rotated-elsewhere"}});  // ours has expired
  const Result r = run(s.d, 3);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(s.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%HTTP 401%' "
                 "AND reason LIKE '%refused the bearer token%'") == 3);
  CHECK(server.state()["sessions"].empty());
  const Result status = run_stepq({"live", "status"}, s.d.path);
  no_token_anywhere(s.d, {r, status});
}

TEST_CASE("live skaha: a platforms file the skaha adapter cannot use exits 2 naming the file and the pointer") {
  Setup s;
  ::unsetenv("STEPQ_TEST_UNSET_TOKEN");
  const std::string base = R"("url": "http://127.0.0.1:1/skaha", "token_env": "STEPQ_TEST_SKAHA_TOKEN", "image": ")" +
                           std::string(kGood) + "\"";
  const auto launch = [&](const std::string& extra) {
    return R"({"kinds": {"launch": {"adapter": "skaha", )" + base + extra + "}}}";
  };
  struct Case {
    std::string text;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {R"({"kinds": {"launch": {"adapter": "skaha", "url": "http://h", "image": "x/y",
          "token_env": "STEPQ_TEST_UNSET_TOKEN"}}})",
       {"p.json: /kinds/launch/token_env", "STEPQ_TEST_UNSET_TOKEN is not set"}},
      {R"({"kinds": {"launch": {"adapter": "skaha", "url": "http://h", "image": "x/y"}}})",
       {"p.json: /kinds/launch: ", "needs a bearer token"}},
      {launch(R"(, "tokn_file": "t")"), {"p.json: /kinds/launch/tokn_file: unknown key", "did you mean 'token_file'"}},
      {launch(R"(, "env": {"A": "x=y"})"), {"p.json: /kinds/launch/env/A: must not hold '='"}},
      {launch(R"(, "env": {"1A": "x"})"), {"p.json: /kinds/launch/env/1A: not an environment variable name"}},
      {launch(R"(, "cmd": "/bin/sh \"-c\"")"), {"p.json: /kinds/launch/cmd: must not hold '\"'"}},
      {launch(R"(, "args": "a\nb")"), {"p.json: /kinds/launch/args: must not hold a line break"}},
      {launch(R"(, "type": "gpu")"), {"p.json: /kinds/launch/type: must be", "\"headless\""}},
      {launch(R"(, "type": "notebook", "cmd": "/run")"), {"p.json: /kinds/launch/cmd: only headless sessions"}},
      {launch(R"(, "cores": -2)"), {"p.json: /kinds/launch/cores: must be a positive number"}},
      {R"({"kinds": {"stage": {"adapter": "skaha", )" + base + "}}}",
       {"p.json: /kinds/stage/adapter", "runs image, launch, poll and delete kinds", "op \"data\""}},
      {R"({"kinds": {"launch": {"adapter": "skaha", "url": "http://h", "token_env": "STEPQ_TEST_SKAHA_TOKEN"}}})",
       {"p.json: /kinds/launch/image", "no image for template batch"}},
      {R"({"adapters": {"skaha": {"url": "ftp://h"}}, "kinds": {"poll": {"adapter": "skaha"}}})",
       {"p.json: /adapters/skaha/url: must start with http://"}},
  };
  for (const auto& c : cases) {
    write(s.d, "p.json", c.text);
    const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--until-idle"}, s.d.path, 60);
    INFO(c.text << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("error: "));
    for (const auto& w : c.says) CHECK_THAT(r.err, Catch::Contains(w));
    CHECK(r.err.find(kToken) == std::string::npos);
  }
}
