// The podman adapter against a real Podman service and a real registry (CTest's `podman`
// fixture: scripts/podman.sh start). scenarios/podman-demo.json's sessions pull the demo image,
// run real containers over their session directories, are polled to running and removed.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <regex>

#include "live/db_check.hpp"
#include "live/history.hpp"
#include "live/processes.hpp"
#include "podman/podman_env.hpp"

using namespace stepq::test;

namespace {

// A name of its own per test run: the fixture's service is shared, containers are not.
std::string fresh_instance(const std::string& what) {
  std::random_device rd;
  return "t" + what + "-" + std::to_string(rd() % 1000000);
}

// scenarios/platforms/podman-demo.json for this service, with `instance` and the changes given.
std::string platforms(const PodmanEnv& pm, const std::string& instance, const std::string& image = "",
                      const std::string& command = "") {
  std::ifstream in(source("scenarios/platforms/podman-demo.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  t = std::regex_replace(t, std::regex("@SOCKET@"), pm.socket);
  t = std::regex_replace(t, std::regex("@IMAGE@"), image.empty() ? pm.image : image);
  if (!command.empty()) t = std::regex_replace(t, std::regex(R"("command": \[[^\]]*\])"), "\"command\": " + command);
  return std::regex_replace(t, std::regex(R"("default": "local",)"),
                            R"("default": "local", "instance": ")" + instance + "\",");
}

}  // namespace

TEST_CASE(
    "24 demo sessions in real containers, two processes, one SIGKILLed between a create and its "
    "finish: all COMPLETED, one container per launch, none left") {
  PodmanEnv pm;
  TempDir d;
  const std::string instance = fresh_instance("crash");
  std::ofstream(d / "p.json") << platforms(pm, instance);
  const std::string sc = source("scenarios/podman-demo.json");
  const int sessions = 24;
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", std::to_string(sessions), "-q"}, d.path).status == 0);
  const std::vector<std::string> worker = {"live",         "run",     sc,  "--platforms", "p.json",
                                           "--until-idle", "--lease", "1", "--heartbeat", "0.2"};
  Proc victim(stepq::test::stepq(worker), d.path, "victim");
  SqlDb db(d / "stepq.db");
  const std::string vpid = std::to_string(victim.pid());
  REQUIRE(within(20, [&] { return db.count("SELECT count(*) FROM processor WHERE pid = " + vpid) == 1; }));
  const std::string vid = db.rows("SELECT id FROM processor WHERE pid = " + vpid).at(0).at(0);
  Proc survivor(stepq::test::stepq(worker), d.path, "survivor");

  // Kill the victim while it runs a launch whose container already exists: the create was made,
  // its step not yet finished.
  std::string caught;
  REQUIRE(within(90, [&] {
    for (const auto& r : db.rows("SELECT s.session FROM step s JOIN kind k ON k.id = s.kind WHERE k.name = 'launch' "
                                 "AND s.phase = 3 AND s.processor = " +
                                 vid)) {
      const std::string name = instance + "-" + r.at(0) + "-brightest";
      if (pm.exists(name)) {
        victim.signal(SIGKILL);
        caught = name;
        return true;
      }
    }
    return false;
  }));
  INFO("killed while launching " << caught);
  CHECK(victim.wait(10).status == 128 + SIGKILL);
  const Result r = survivor.wait(240);
  INFO(r.err);
  REQUIRE(r.status == 0);

  check_all_ended(db, sessions);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == sessions);
  // The launch the victim held ran again under the survivor and found its container.
  CHECK(db.count("SELECT count(*) FROM execution WHERE outcome = 'reaped'") >= 1);
  const auto created = pm.events(instance, "create");
  CHECK(created.size() == sessions);
  for (const auto& [name, n] : created) {
    INFO(name);
    CHECK(n == 1);
  }
  CHECK(created.count(caught) == 1);
  CHECK(pm.events(instance, "remove").size() == sessions);
  CHECK(pm.containers(instance) == 0);
  // What the containers wrote through the bind mount: the three brightest sources.
  for (int s = 0; s < sessions; ++s) {
    std::ifstream out(d / ("stepq-sessions/session-" + std::to_string(s) + "/brightest.txt"));
    INFO("session " << s);
    std::string line;
    int lines = 0;
    while (std::getline(out, line)) ++lines;
    CHECK(lines == 3);
  }
}

TEST_CASE(
    "a container that exits non-zero before it is seen running fails its session with the exit code and its "
    "log, one whose command does not exist fails at launch, a missing image at the pull, and all are removed") {
  PodmanEnv pm;
  TempDir d;
  const std::string instance = fresh_instance("fail");
  // The poll looks 0.5 s after the start (an emulated step between them), so a container that
  // exits at once has exited when it looks: libpod reports `running` for a few ms after a start.
  std::ofstream(d / "s.json") << R"({"name": "fail", "seed": 1, "sessions": 3,
    "arrivals": {"process": "poisson", "rate_per_s": 5},
    "kinds": {"image": {"op": "image", "threads": 1, "service_s": 0.1},
              "launch": {"op": "launch", "threads": 1, "service_s": 0.3, "retry": {"max_attempts": 3}},
              "settle": {"threads": 2, "service_s": 0.5},
              "running": {"op": "poll", "threads": 1, "service_s": 0.01,
                          "poll": {"interval_s": 0.2, "ready_after_s": 0.1}},
              "delete": {"op": "delete", "threads": 1, "service_s": 0.3}},
    "templates": [{"name": "t", "session": {"run_s": 1},
      "steps": [{"id": "image", "kind": "image"}, {"id": "job", "kind": "launch", "after": ["image"]},
                {"id": "settle", "kind": "settle", "after": ["job"]},
                {"id": "running", "kind": "running", "after": ["settle"]}],
      "release": [{"id": "remove", "kind": "delete"}]}]})";
  auto write_platforms = [&](const std::string& image, const std::string& command) {
    std::ofstream(d / "p.json") << R"({"instance": ")" << instance << R"(",
      "adapters": {"podman": {"socket": ")"
                                << pm.socket << R"(", "tls_verify": false, "image": ")" << image << R"(", "command": )"
                                << command << R"(}},
      "kinds": {"image": {"adapter": "podman"}, "launch": {"adapter": "podman"},
                "running": {"adapter": "podman"}, "delete": {"adapter": "podman"}}})";
  };
  auto run = [&](int sessions) {
    REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", std::to_string(sessions), "-q"}, d.path).status == 0);
    const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--until-idle"}, d.path, 120);
    INFO(r.err);
    REQUIRE(r.status == 0);
  };
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  SqlDb db(d / "stepq.db");

  write_platforms(pm.image, R"(["/bin/sh", "-c", "echo catalogue unreadable >&2; exit 3"])");
  run(3);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%exited with status 3 before "
                 "it was seen running%' AND reason LIKE '%log: catalogue unreadable%'") == 3);
  CHECK(pm.events(instance, "create").size() == 3);
  CHECK(pm.containers(instance) == 0);  // compensation: the release steps removed them

  write_platforms(pm.image, R"(["/bin/nosuch", "--catalogue"])");
  run(2);
  CHECK(db.count("SELECT count(*) FROM session WHERE id >= 3 AND phase = 'FAILED' AND reason LIKE '%could not start "
                 "(exit status 127)%' AND reason LIKE '%/bin/nosuch%'") == 2);
  // Not retried: the runtime's answer would be the same (max_attempts is 3).
  CHECK(db.count("SELECT count(*) FROM execution e JOIN step s ON s.id = e.step JOIN kind k ON k.id = s.kind "
                 "WHERE k.name = 'launch' AND s.session >= 3") == 2);
  CHECK(pm.containers(instance) == 0);

  write_platforms(pm.registry + "/stepq/demo:nosuch", R"(["/bin/true"])");
  run(2);
  CHECK(db.count("SELECT count(*) FROM session WHERE id >= 5 AND phase = 'FAILED' AND reason LIKE '%pull of " +
                 pm.registry + "/stepq/demo:nosuch failed%'") == 2);
  CHECK(pm.events(instance, "create").size() == 5);  // no launch ran for them
}

TEST_CASE("a platforms file the podman adapter cannot use exits 2 naming the file and the JSON pointer") {
  PodmanEnv pm;
  TempDir d;
  const std::string sc = source("scenarios/podman-demo.json");
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  const std::string base = platforms(pm, "tbad");
  struct Case {
    std::string from, to;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {"\"socket\": \"" + pm.socket + "\"",
       "\"socket\": \"podman.sock\"",
       {"p.json: /adapters/podman/socket", "absolute path"}},
      {"\"image\": \"" + pm.image + "\",", "", {"/kinds/image/image", "no image for template catalogue"}},
      {"\"command\": [", "\"command\": [\"\", ", {"/adapters/podman/command/0", "must not be empty"}},
      {"\"LC_ALL\": \"C\"", "\"LC_ALL\": 1", {"/adapters/podman/env/LC_ALL", "must be a string"}},
      {"\"tls_verify\": false", "\"tls_verfy\": false", {"/adapters/podman/tls_verfy", "did you mean 'tls_verify'"}},
      {"\"image\": {\"adapter\": \"podman\"}",
       "\"image\": {\"adapter\": \"podman\"}, \"storage\": {\"adapter\": \"podman\"}",
       {"/kinds/storage/adapter", "runs image, launch, poll and delete kinds"}},
      {"\"tls_verify\": false", "\"tls_verify\": \"no\"", {"/adapters/podman/tls_verify", "true or false"}},
  };
  for (const auto& c : cases) {
    std::string text = base;
    const auto at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    std::ofstream(d / "p.json") << text;
    const Result r = run_stepq({"live", "run", sc, "--platforms", "p.json", "--until-idle"}, d.path, 60);
    INFO(text << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    for (const auto& s : c.says) CHECK_THAT(r.err, Catch::Contains(s));
  }
}
