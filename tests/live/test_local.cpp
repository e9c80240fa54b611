// The `local` platform against real parts: a real directory tree, a real HTTP server on
// 127.0.0.1 (python3's http.server, started here), real processes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "backends/local/local_services.hpp"
#include "core/rng.hpp"
#include "core/scenario_load.hpp"
#include "live/processes.hpp"

using namespace stepq;
using namespace stepq::test;

namespace {

int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  close(s);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

// python3 -m http.server serving `dir` on 127.0.0.1, stopped with the test.
struct HttpServer {
  int port = free_port();
  std::unique_ptr<Proc> proc;
  HttpServer(const std::filesystem::path& dir, const std::filesystem::path& logs) {
    proc = std::make_unique<Proc>(std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                                                           std::to_string(port), "--directory", dir.string()},
                                  logs, "http");
    for (int i = 0; i < 500 && !accepts(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(accepts(port));
  }
};

std::string sha256_of(const std::string& file) {
  std::string cmd = "sha256sum " + file;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), &pclose);
  char buf[65] = "";
  REQUIRE(std::fread(buf, 1, 64, p.get()) == 64);
  return std::string(buf, 64);
}

// A scenario whose one template has the given steps (JSON array text), root under `root`.
Scenario scenario(const std::filesystem::path& root, const std::string& steps) {
  return parse_scenario(R"({
    "name": "local-test", "seed": 1, "sessions": 1,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"local": {"root": ")" + root.string() + R"("}},
    "kinds": {
      "image": {"op": "image", "threads": 1, "service_s": 0},
      "storage": {"op": "storage", "threads": 1, "service_s": 0},
      "data": {"op": "data", "threads": 1, "service_s": 0},
      "launch": {"op": "launch", "threads": 1, "service_s": 0},
      "poll": {"op": "poll", "threads": 1, "poll": {"interval_s": 1, "ready_after_s": {"dist": "constant", "value": 0}}}
    },
    "templates": [{"name": "t", "steps": )" + steps + R"(}]
  })", "local-test.json");
}

// Runs step `i` of the template for session 7, as a worker would.
OpResult run(Services& s, const Scenario& sc, int i, int attempt = 1) {
  StepRef ref;
  ref.session = 7;
  ref.step = i;
  ref.kind = sc.templates[0].steps[i].kind;
  ref.attempt = attempt;
  const StepContext c{sc, sc.kinds[ref.kind], sc.templates[0].steps[i], ref, session_key(sc.seed, 7)};
  switch (sc.kinds[ref.kind].op) {
    case Op::image: return s.pull_image(c);
    case Op::storage: return s.allocate_storage(c);
    case Op::data: return s.stage_data(c);
    case Op::launch: return s.launch(c);
    case Op::poll: return s.poll(c);
    default: return s.work(c);
  }
}

OpResult poll_until_done(Services& s, const Scenario& sc, int i) {
  for (int n = 0; n < 1000; ++n) {
    OpResult r = run(s, sc, i);
    if (!r.ok || r.ready) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the program did not finish in 10 s");
  return {};
}

}  // namespace

TEST_CASE("local platform: storage is a real directory, refused when the disk lacks the space") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage", "local": {"size_bytes": 1000}},
    {"id": "huge", "kind": "storage", "local": {"size_bytes": 1e18}}])");
  local::LocalServices s(sc);
  const OpResult ok = run(s, sc, 0);
  REQUIRE(ok.ok);
  CHECK(std::filesystem::is_directory(tmp.path / "root" / "session-7"));
  CHECK(run(s, sc, 0).ok);  // again: idempotent
  const OpResult no = run(s, sc, 1);
  CHECK_FALSE(no.ok);
  CHECK_THAT(no.reason, Catch::Contains("bytes free") && Catch::Contains("asks for 1000000000000000000"));
}

TEST_CASE("local platform: data over real HTTP, size and sha256 checked, never a partial file") {
  TempDir tmp;
  const auto served = tmp.path / "served";
  std::filesystem::create_directories(served);
  {
    std::ofstream f(served / "ms.bin", std::ios::binary);
    std::mt19937 g(5);
    for (int i = 0; i < 300000; ++i) f.put(static_cast<char>(g()));
  }
  const std::string sum = sha256_of((served / "ms.bin").string());
  HttpServer http(served, tmp.path);
  const std::string url = "http://127.0.0.1:" + std::to_string(http.port) + "/ms.bin";
  std::string wrong = sum;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage"},
    {"id": "good", "kind": "data", "local": {"url": ")" + url + R"(", "size_bytes": 300000, "sha256": ")" + sum + R"("}},
    {"id": "bad", "kind": "data", "local": {"url": ")" + url + R"(", "sha256": ")" + wrong + R"("}},
    {"id": "short", "kind": "data", "local": {"url": ")" + url + R"(", "size_bytes": 299999}},
    {"id": "gone", "kind": "data", "local": {"url": "http://127.0.0.1:)" + std::to_string(http.port) + R"(/missing.bin"}},
    {"id": "closed", "kind": "data", "local": {"url": "http://127.0.0.1:)" + std::to_string(free_port()) + R"(/x.bin"}}])");
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, 0).ok);
  const auto dir = tmp.path / "root" / "session-7";

  const OpResult good = run(s, sc, 1);
  INFO(good.reason);
  REQUIRE(good.ok);
  CHECK(std::filesystem::file_size(dir / "ms.bin") == 300000);
  CHECK(sha256_of((dir / "ms.bin").string()) == sum);

  std::filesystem::remove(dir / "ms.bin");
  const OpResult bad = run(s, sc, 2);
  CHECK_FALSE(bad.ok);
  CHECK_THAT(bad.reason, Catch::Contains("sha256 " + sum) && Catch::Contains("expected " + wrong));
  CHECK_FALSE(std::filesystem::exists(dir / "ms.bin"));  // nothing under the final name

  const OpResult short_ = run(s, sc, 3);
  CHECK_FALSE(short_.ok);
  CHECK_THAT(short_.reason, Catch::Contains("expected 299999"));

  const OpResult gone = run(s, sc, 4);
  CHECK_FALSE(gone.ok);
  CHECK_THAT(gone.reason, Catch::Contains("missing.bin") && Catch::Contains("404"));

  const OpResult closed = run(s, sc, 5);
  CHECK_FALSE(closed.ok);
  CHECK_THAT(closed.reason, Catch::Contains("x.bin"));

  // No partial download was left behind by any of the failures.
  for (const auto& e : std::filesystem::directory_iterator(dir))
    CHECK(e.path().filename().string().find(".part") == std::string::npos);
}

TEST_CASE("local platform: programs are resolved, launched detached, and their exit status recorded") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage"},
    {"id": "shell", "kind": "image", "local": {"program": "sh"}},
    {"id": "nosuch", "kind": "image", "local": {"program": "no-such-program-for-stepq"}},
    {"id": "ok", "kind": "launch", "after": ["home"],
     "local": {"program": "sh", "args": ["-c", "echo run >> runs.txt; echo $GREETING; sleep 0.2"], "env": {"GREETING": "hello"}}},
    {"id": "wait_ok", "kind": "poll", "after": ["ok"]},
    {"id": "bad", "kind": "launch", "after": ["home"], "local": {"program": "sh", "args": ["-c", "echo oops >&2; exit 3"]}},
    {"id": "wait_bad", "kind": "poll", "after": ["bad"]}])");
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, 0).ok);
  CHECK(run(s, sc, 1).ok);
  const OpResult missing = run(s, sc, 2);
  CHECK_FALSE(missing.ok);
  CHECK_THAT(missing.reason, Catch::Contains("no-such-program-for-stepq") && Catch::Contains("PATH"));

  REQUIRE(run(s, sc, 3).ok);
  REQUIRE(run(s, sc, 3).ok);  // a second launch (a re-run after a crash) starts nothing new
  const OpResult first = run(s, sc, 4);
  CHECK(first.ok);
  CHECK_FALSE(first.ready);  // it sleeps 0.2 s
  // Another instance (another worker process) sees the same state: it lives in files.
  local::LocalServices other(sc);
  const OpResult done = poll_until_done(other, sc, 4);
  INFO(done.reason);
  CHECK(done.ok);
  const auto dir = tmp.path / "root" / "session-7";
  CHECK(Proc::slurp((dir / "runs.txt").string()) == "run\n");
  CHECK(Proc::slurp((dir / ".stepq" / "ok.stdout").string()) == "hello\n");
  CHECK(Proc::slurp((dir / ".stepq" / "ok.exit").string()) == "exit 0\n");

  REQUIRE(run(s, sc, 5).ok);
  const OpResult failed = poll_until_done(s, sc, 6);
  CHECK_FALSE(failed.ok);
  CHECK_THAT(failed.reason, Catch::Contains("exited with status 3") && Catch::Contains("oops"));
  CHECK(Proc::slurp((dir / ".stepq" / "bad.exit").string()) == "exit 3\n");
}

TEST_CASE("local platform: scenarios/local-demo.json runs 20 real sessions end to end through the binary") {
  TempDir dir;
  const std::string sc = source("scenarios/local-demo.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", sc, "--sessions", "20"}, dir.path).status == 0);
  const Result run = run_stepq({"live", "run", sc, "--platform", "local", "--until-idle"}, dir.path, 120);
  INFO(run.err);
  REQUIRE(run.status == 0);
  const Result st = run_stepq({"live", "status", "--json", "-"}, dir.path);
  REQUIRE(st.status == 0);
  const auto j = nlohmann::json::parse(st.out);
  CHECK(j["sessions"]["COMPLETED"] == 20);
  CHECK(j["sessions"]["FAILED"] == 0);
  CHECK(j["startup_s"]["count"] == 20);
  CHECK(j["startup_s"]["p95"].get<double>() > 0.3);  // the program sleeps 0.3 s
  for (int s = 0; s < 20; ++s) {
    const auto out = dir.path / "stepq-sessions" / ("session-" + std::to_string(s)) / "brightest.txt";
    INFO(out);
    CHECK(Proc::slurp(out.string()).rfind("src003 ", 0) == 0);  // the brightest source first
  }
}
