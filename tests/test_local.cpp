// The `local` platform (backends/local) against real parts only: real directories under /tmp, a
// real HTTP server on 127.0.0.1 (python3's http.server, started here), real processes. Each test
// builds StepContexts from a small scenario and calls LocalServices as a worker would.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "backends/local/local_services.hpp"
#include "core/rng.hpp"
#include "core/scenario_load.hpp"

using namespace stepq;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/stepq-local-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& f, const std::string& text) {
  fs::create_directories(f.parent_path());
  std::ofstream(f, std::ios::binary) << text;
}

std::string sha256sum(const fs::path& f) {
  const std::string cmd = "sha256sum '" + f.string() + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), &pclose);
  char buf[65] = "";
  REQUIRE(std::fread(buf, 1, 64, p.get()) == 64);
  return std::string(buf, 64);
}

// A port nothing listens on (bound, then released).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

// `python3 -m http.server` serving `dir` on 127.0.0.1, killed at the end of the test.
struct HttpServer {
  int port = free_port();
  pid_t pid = -1;
  explicit HttpServer(const fs::path& dir) {
    const std::string p = std::to_string(port), d = dir.string(), log = (dir.parent_path() / "http.log").string();
    std::fflush(nullptr);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      if (!freopen(log.c_str(), "w", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
      execlp("python3", "python3", "-m", "http.server", "--bind", "127.0.0.1", p.c_str(), "--directory", d.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 1000 && !accepts(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(accepts(port));
  }
  ~HttpServer() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  std::string url(const std::string& name) const { return "http://127.0.0.1:" + std::to_string(port) + "/" + name; }
};

// A scenario with one kind per op and one template of the given steps (JSON arrays), release
// steps too when given.
Scenario scenario(const fs::path& root, const std::string& steps, const std::string& file = "local-test.json",
                  const std::string& release = "") {
  return parse_scenario(R"({
    "name": "local-test", "seed": 1, "sessions": 1,
    "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"local": {"root": ")" +
                            root.string() + R"("}, "hosts": ["site", "wan"],
                 "links": [{"name": "out", "from": "site", "to": "wan", "bandwidth_MBps": 100}]},
    "kinds": {
      "image": {"op": "image", "threads": 1, "service_s": 0},
      "storage": {"op": "storage", "threads": 1, "service_s": 0},
      "data": {"op": "data", "threads": 1, "service_s": 0},
      "launch": {"op": "launch", "threads": 1, "service_s": 0},
      "poll": {"op": "poll", "threads": 1, "poll": {"interval_s": 1, "ready_after_s": 0}},
      "cleanup": {"op": "cleanup", "threads": 1, "service_s": 0},
      "pushback": {"op": "pushback", "threads": 1, "service_s": 0, "transfer": {"from": "site", "to": "wan"}}
    },
    "templates": [{"name": "t", "steps": )" +
                            steps + (release.empty() ? "" : ", \"release\": " + release) + R"(}]
  })",
                        file);
}

int step_index(const Scenario& sc, const std::string& id) {
  const auto& steps = sc.templates[0].steps;
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i].id == id) return static_cast<int>(i);
  FAIL("no step " << id);
  return -1;
}

// Runs step `id` of session `session`, as core/handlers.cpp would: by the kind's op.
OpResult run(Services& s, const Scenario& sc, const std::string& id, std::uint64_t session = 7) {
  StepRef ref;
  ref.session = session;
  ref.step = step_index(sc, id);
  ref.kind = sc.templates[0].steps[ref.step].kind;
  const StepContext c{sc, sc.kinds[ref.kind], sc.templates[0].steps[ref.step], ref, session_key(sc.seed, session)};
  switch (sc.kinds[ref.kind].op) {
    case Op::image: return s.pull_image(c);
    case Op::storage: return s.allocate_storage(c);
    case Op::data: return s.stage_data(c);
    case Op::launch: return s.launch(c);
    case Op::poll: return s.poll(c);
    case Op::work: return s.work(c);
    case Op::remove: return s.remove(c);
    case Op::cleanup: return s.cleanup(c);
    case Op::pushback: return s.pushback(c);
    case Op::extend: return s.extend_lease(c);
  }
  return {};
}

// Polls until the program is done (ok and ready, or failed); at most 10 s.
OpResult poll_until_done(Services& s, const Scenario& sc, const std::string& id, std::uint64_t session = 7) {
  for (int n = 0; n < 1000; ++n) {
    OpResult r = run(s, sc, id, session);
    if (!r.ok || r.ready) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("step " << id << " was not done within 10 s");
  return {};
}

std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".part") != std::string::npos) v.push_back(e.path().filename());
  return v;
}

}  // namespace

TEST_CASE("local: storage is a real directory, idempotent, refused when free space is short") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage", "local": {"size_bytes": 1000}},
    {"id": "plain", "kind": "storage"},
    {"id": "huge", "kind": "storage", "local": {"size_bytes": 1e18}}])");
  local::LocalServices s(sc);
  const OpResult ok = run(s, sc, "home");
  INFO(ok.reason);
  REQUIRE(ok.ok);
  CHECK(fs::is_directory(tmp.path / "root" / "session-7"));
  CHECK(s.session_dir(7) == tmp.path / "root" / "session-7");
  write_file(tmp.path / "root" / "session-7" / "keep.txt", "x");
  CHECK(run(s, sc, "home").ok);  // again: idempotent, and nothing in it is lost
  CHECK(slurp(tmp.path / "root" / "session-7" / "keep.txt") == "x");
  CHECK(run(s, sc, "plain", 8).ok);
  CHECK(fs::is_directory(tmp.path / "root" / "session-8"));

  const OpResult no = run(s, sc, "huge", 9);
  CHECK_FALSE(no.ok);
  CHECK_THAT(no.reason, Catch::Contains("bytes free under " + (tmp.path / "root").string()) &&
                            Catch::Contains("'huge' asks for 1000000000000000000"));
  CHECK_FALSE(fs::exists(tmp.path / "root" / "session-9"));
}

TEST_CASE("local: storage under a root that cannot be created fails with the path") {
  TempDir tmp;
  write_file(tmp.path / "afile", "not a directory");
  const Scenario sc = scenario(tmp.path / "afile" / "root", R"([{"id": "home", "kind": "storage"}])");
  local::LocalServices s(sc);
  const OpResult r = run(s, sc, "home");
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.reason, Catch::Contains((tmp.path / "afile" / "root").string()));
}

TEST_CASE("local: data over real HTTP from 127.0.0.1, size and sha256 checked, never a partial file") {
  TempDir tmp;
  const auto served = tmp.path / "served";
  {
    fs::create_directories(served);
    std::ofstream f(served / "ms.bin", std::ios::binary);
    std::mt19937 g(5);
    for (int i = 0; i < 300000; ++i) f.put(static_cast<char>(g()));
  }
  const std::string sum = sha256sum(served / "ms.bin");
  std::string wrong = sum;
  wrong[10] = wrong[10] == '0' ? '1' : '0';
  HttpServer http(served);
  const std::string closed_url = "http://127.0.0.1:" + std::to_string(free_port()) + "/x.bin";
  const Scenario sc =
      scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage"},
    {"id": "good", "kind": "data", "local": {"url": ")" +
                                      http.url("ms.bin?v=1") + R"(", "size_bytes": 300000, "sha256": ")" + sum + R"("}},
    {"id": "badsum", "kind": "data", "local": {"url": ")" +
                                      http.url("ms.bin") + R"(", "sha256": ")" + wrong + R"("}},
    {"id": "toobig", "kind": "data", "local": {"url": ")" +
                                      http.url("ms.bin") + R"(", "size_bytes": 299999}},
    {"id": "toosmall", "kind": "data", "local": {"url": ")" +
                                      http.url("ms.bin") + R"(", "size_bytes": 300001}},
    {"id": "gone", "kind": "data", "local": {"url": ")" +
                                      http.url("missing.bin") + R"("}},
    {"id": "closed", "kind": "data", "local": {"url": ")" +
                                      closed_url + R"("}}])");
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, "home").ok);
  const auto dir = tmp.path / "root" / "session-7";

  SECTION("the right file arrives, named after the URL's path") {
    const OpResult good = run(s, sc, "good");
    INFO(good.reason);
    REQUIRE(good.ok);
    CHECK(fs::file_size(dir / "ms.bin") == 300000);
    CHECK(sha256sum(dir / "ms.bin") == sum);
    CHECK(run(s, sc, "good").ok);  // again (a re-run): the same file, replaced whole
    CHECK(sha256sum(dir / "ms.bin") == sum);
  }
  SECTION("a checksum mismatch fails, naming both sums, and leaves no file") {
    const OpResult bad = run(s, sc, "badsum");
    CHECK_FALSE(bad.ok);
    CHECK_THAT(bad.reason, Catch::Contains(http.url("ms.bin")) && Catch::Contains("sha256 mismatch") &&
                               Catch::Contains("got " + sum) && Catch::Contains("expected " + wrong));
    CHECK_FALSE(fs::exists(dir / "ms.bin"));
  }
  SECTION("more bytes than expected, or fewer, fail") {
    const OpResult big = run(s, sc, "toobig");
    CHECK_FALSE(big.ok);
    CHECK_THAT(big.reason, Catch::Contains("more than the expected 299999 bytes"));
    const OpResult small = run(s, sc, "toosmall");
    CHECK_FALSE(small.ok);
    CHECK_THAT(small.reason, Catch::Contains("got 300000 bytes, expected 300001"));
    CHECK_FALSE(fs::exists(dir / "ms.bin"));
  }
  SECTION("a 404 and an unreachable server fail with the URL and why") {
    const OpResult gone = run(s, sc, "gone");
    CHECK_FALSE(gone.ok);
    CHECK_THAT(gone.reason, Catch::Contains(http.url("missing.bin")) && Catch::Contains("404"));
    const OpResult closed = run(s, sc, "closed");
    CHECK_FALSE(closed.ok);
    CHECK_THAT(closed.reason, Catch::Contains(closed_url) && Catch::Contains("onnect"));
    CHECK_FALSE(fs::exists(dir / "missing.bin"));
    CHECK_FALSE(fs::exists(dir / "x.bin"));
  }
  CHECK(leftovers(dir).empty());
}

TEST_CASE("local: file: URLs, relative ones against the scenario file's directory") {
  TempDir tmp;
  const auto scen_dir = tmp.path / "my scenarios";  // a space: the URL must be encoded
  write_file(scen_dir / "data" / "in put.txt", "hello, local\n");
  write_file(tmp.path / "abs.txt", "absolute\n");
  const std::string sum = sha256sum(scen_dir / "data" / "in put.txt");
  const Scenario sc = scenario(tmp.path / "root",
                               R"([
    {"id": "rel", "kind": "data", "local": {"url": "file:data/in put.txt", "size_bytes": 13, "sha256": ")" +
                                   sum + R"("}},
    {"id": "abs", "kind": "data", "local": {"url": "file://)" +
                                   (tmp.path / "abs.txt").string() + R"("}},
    {"id": "nofile", "kind": "data", "local": {"url": "file:data/nothing.txt"}}])",
                               (scen_dir / "s.json").string());
  local::LocalServices s(sc);
  const OpResult rel = run(s, sc, "rel");
  INFO(rel.reason);
  REQUIRE(rel.ok);  // no storage step first: the session directory is made as needed
  CHECK(slurp(tmp.path / "root" / "session-7" / "in put.txt") == "hello, local\n");
  REQUIRE(run(s, sc, "abs").ok);
  CHECK(slurp(tmp.path / "root" / "session-7" / "abs.txt") == "absolute\n");
  const OpResult no = run(s, sc, "nofile");
  CHECK_FALSE(no.ok);
  CHECK_THAT(no.reason, Catch::Contains("nothing.txt"));
  CHECK(leftovers(tmp.path / "root" / "session-7").empty());
}

TEST_CASE("local: the image step resolves a program by path or on PATH, and names what is missing") {
  TempDir tmp;
  write_file(tmp.path / "plain.txt", "not a program");
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "byname", "kind": "image", "local": {"program": "sh"}},
    {"id": "bypath", "kind": "image", "local": {"program": "/bin/sh"}},
    {"id": "nosuch", "kind": "image", "local": {"program": "no-such-program-for-stepq"}},
    {"id": "nopath", "kind": "image", "local": {"program": ")" +
                                                      (tmp.path / "nothing").string() + R"("}},
    {"id": "noexec", "kind": "image", "local": {"program": ")" +
                                                      (tmp.path / "plain.txt").string() + R"("}},
    {"id": "unsaid", "kind": "image"}])");
  local::LocalServices s(sc);
  CHECK(run(s, sc, "byname").ok);
  CHECK(run(s, sc, "bypath").ok);
  const OpResult nosuch = run(s, sc, "nosuch");
  CHECK_FALSE(nosuch.ok);
  CHECK_THAT(nosuch.reason, Catch::Contains("'no-such-program-for-stepq' is not on PATH"));
  const OpResult nopath = run(s, sc, "nopath");
  CHECK_FALSE(nopath.ok);
  CHECK_THAT(nopath.reason, Catch::Contains((tmp.path / "nothing").string() + " does not exist or is not executable"));
  const OpResult noexec = run(s, sc, "noexec");
  CHECK_FALSE(noexec.ok);
  CHECK_THAT(noexec.reason, Catch::Contains("plain.txt does not exist or is not executable"));
  const OpResult unsaid = run(s, sc, "unsaid");
  CHECK_FALSE(unsaid.ok);
  CHECK_THAT(unsaid.reason, Catch::Contains("'unsaid'") && Catch::Contains("\"program\""));
}

TEST_CASE("local: a launched program's exit status and stderr are recorded, polled from any instance") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage"},
    {"id": "ok", "kind": "launch", "after": ["home"],
     "local": {"program": "sh", "args": ["-c", "echo run >> runs.txt; echo $GREETING; pwd; sleep 0.3"],
               "env": {"GREETING": "hello"}}},
    {"id": "wait_ok", "kind": "poll", "after": ["ok"]},
    {"id": "bad", "kind": "launch", "after": ["home"], "local": {"program": "sh", "args": ["-c", "echo oops >&2; exit 3"]}},
    {"id": "wait_bad", "kind": "poll", "after": ["bad"]},
    {"id": "quiet", "kind": "launch", "local": {"program": "sh", "args": ["-c", "echo only-stdout; exit 1"]}},
    {"id": "wait_quiet", "kind": "poll", "after": ["quiet"]},
    {"id": "killed", "kind": "launch", "local": {"program": "sh", "args": ["-c", "kill -9 $$"]}},
    {"id": "wait_killed", "kind": "poll", "after": ["killed"]},
    {"id": "both", "kind": "poll", "after": ["ok", "bad"]}])");
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, "home").ok);
  const auto dir = tmp.path / "root" / "session-7";
  const auto state = dir / ".stepq";

  SECTION("exit 0: not ready while it runs, ready after; launched once however often asked") {
    REQUIRE(run(s, sc, "ok").ok);
    REQUIRE(run(s, sc, "ok").ok);  // a second launch (a re-run after a crash) starts nothing new
    const OpResult first = run(s, sc, "wait_ok");
    CHECK(first.ok);
    CHECK_FALSE(first.ready);        // it sleeps 0.3 s
    local::LocalServices other(sc);  // another worker process: the state is in files
    const OpResult done = poll_until_done(other, sc, "wait_ok");
    INFO(done.reason);
    CHECK(done.ok);
    CHECK(done.ready);
    CHECK(slurp(dir / "runs.txt") == "run\n");
    CHECK(slurp(state / "ok.stdout") == "hello\n" + dir.string() + "\n");  // env added, cwd = session dir
    CHECK(slurp(state / "ok.exit") == "exit 0\n");
    CHECK(run(s, sc, "ok").ok);  // after it ended too
    CHECK(slurp(dir / "runs.txt") == "run\n");
  }
  SECTION("exit 3: the poll fails with the status and the stderr tail") {
    REQUIRE(run(s, sc, "bad").ok);
    const OpResult failed = poll_until_done(s, sc, "wait_bad");
    CHECK_FALSE(failed.ok);
    CHECK_THAT(failed.reason, Catch::Contains("program sh of step 'bad': exit status 3; stderr: oops"));
    CHECK(slurp(state / "bad.exit") == "exit 3\n");
    CHECK(slurp(state / "bad.stderr") == "oops\n");
    // A poll over several launches is ready only when all are; one failure fails it.
    REQUIRE(run(s, sc, "ok").ok);
    const OpResult both = poll_until_done(s, sc, "both");
    CHECK_FALSE(both.ok);
    CHECK_THAT(both.reason, Catch::Contains("exit status 3"));
  }
  SECTION("no stderr: the reason quotes stdout; a signal is named") {
    REQUIRE(run(s, sc, "quiet").ok);
    const OpResult quiet = poll_until_done(s, sc, "wait_quiet");
    CHECK_FALSE(quiet.ok);
    CHECK_THAT(quiet.reason, Catch::Contains("exit status 1; stderr empty; stdout: only-stdout"));
    REQUIRE(run(s, sc, "killed").ok);
    const OpResult killed = poll_until_done(s, sc, "wait_killed");
    CHECK_FALSE(killed.ok);
    CHECK_THAT(killed.reason, Catch::Contains("killed by signal 9 (SIGKILL)"));
    CHECK(slurp(state / "killed.exit") == "signal 9\n");
  }
}

TEST_CASE("local: a launch survives the worker process that made it being killed") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "run", "kind": "launch", "local": {"program": "sh", "args": ["-c", "sleep 0.3; echo done > out.txt"]}},
    {"id": "wait", "kind": "poll", "after": ["run"]}])");
  std::fflush(nullptr);
  const pid_t worker = fork();
  REQUIRE(worker >= 0);
  if (worker == 0) {
    local::LocalServices s(sc);
    const OpResult r = run(s, sc, "run");
    if (!r.ok) _exit(1);
    raise(SIGKILL);  // the worker dies the hardest way right after launching
    _exit(2);
  }
  int st = 0;
  waitpid(worker, &st, 0);
  REQUIRE(WIFSIGNALED(st));
  REQUIRE(WTERMSIG(st) == SIGKILL);
  local::LocalServices s(sc);  // another process polls
  const OpResult done = poll_until_done(s, sc, "wait");
  INFO(done.reason);
  CHECK(done.ok);
  CHECK(slurp(tmp.path / "root" / "session-7" / "out.txt") == "done\n");
}

// A launcher that died between making the marker and starting anything left a marker and no
// monitor: the re-run must launch (before, it took the marker for a launch done, and the poll
// failed 30 s later). A launcher paused there still holds the marker's lock: the re-run must
// neither launch nor call it done, but look again later.
TEST_CASE("local: a launch cut short before it started is made by the re-run, one under way elsewhere is awaited") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage"},
    {"id": "run", "kind": "launch", "after": ["home"], "local": {"program": "sh", "args": ["-c", "echo run >> runs.txt"]}},
    {"id": "wait", "kind": "poll", "after": ["run"]}])");
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, "home").ok);
  const auto dir = tmp.path / "root" / "session-7";
  fs::create_directories(dir / ".stepq");
  const std::string marker = dir / ".stepq" / "run.launched";
  const int held = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  REQUIRE(held >= 0);
  SECTION("under way: its launcher (paused) holds the marker's lock") {
    REQUIRE(::flock(held, LOCK_EX) == 0);
    const OpResult later = run(s, sc, "run");
    CHECK(later.ok);
    CHECK_FALSE(later.ready);
    CHECK(later.again_s > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(fs::exists(dir / "runs.txt"));
    ::close(held);  // it died there, as it turns out: the next try launches
  }
  SECTION("cut short: the marker is there, unlocked, with no monitor record") { ::close(held); }
  const OpResult launched = run(s, sc, "run");
  CHECK(launched.ok);
  CHECK(launched.ready);
  const OpResult done = poll_until_done(s, sc, "wait");
  INFO(done.reason);
  CHECK(done.ok);
  CHECK(run(s, sc, "run").ok);  // and once done, not again
  CHECK(poll_until_done(s, sc, "wait").ok);
  CHECK(slurp(dir / "runs.txt") == "run\n");
}

TEST_CASE("local: the launched program holds none of the worker's descriptors") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "run", "kind": "launch", "local": {"program": "sh", "args": ["-c", "sleep 2"]}}])");
  int p[2];
  REQUIRE(pipe(p) == 0);  // inheritable, as a caller's stdout pipe would be
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, "run").ok);
  close(p[1]);
  // Nobody else holds the write end: EOF at once, not when the program ends 2 s later.
  pollfd pf{p[0], POLLIN, 0};
  REQUIRE(::poll(&pf, 1, 1000) == 1);
  char c;
  CHECK(read(p[0], &c, 1) == 0);
  close(p[0]);
}

TEST_CASE("local: a monitor that was killed makes the poll fail instead of waiting for ever") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "run", "kind": "launch", "local": {"program": "sh", "args": ["-c", "echo $$ > prog.pid; exec sleep 30"]}},
    {"id": "wait", "kind": "poll", "after": ["run"]}])");
  local::LocalServices s(sc);
  REQUIRE(run(s, sc, "run").ok);
  const auto dir = tmp.path / "root" / "session-7";
  for (int i = 0; i < 500 && !(fs::exists(dir / ".stepq" / "run.monitor") && fs::exists(dir / "prog.pid")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::ifstream mon(dir / ".stepq" / "run.monitor"), prog(dir / "prog.pid");
  pid_t monitor = 0, program = 0;
  REQUIRE(mon >> monitor);
  REQUIRE(prog >> program);
  const OpResult running = run(s, sc, "wait");
  CHECK(running.ok);
  CHECK_FALSE(running.ready);
  REQUIRE(kill(monitor, SIGKILL) == 0);
  kill(program, SIGKILL);
  const OpResult lost = poll_until_done(s, sc, "wait");
  CHECK_FALSE(lost.ok);
  CHECK_THAT(lost.reason, Catch::Contains("monitor of program sh of step 'run' (pid " + std::to_string(monitor) +
                                          ") is gone without recording an exit status"));
}

TEST_CASE("local: bad launches are failed steps with reasons, never a crash") {
  TempDir tmp;
  const Scenario sc = scenario(tmp.path / "root", R"([
    {"id": "missing", "kind": "launch", "local": {"program": "no-such-program-for-stepq"}},
    {"id": "wait_missing", "kind": "poll", "after": ["missing"]},
    {"id": "unsaid", "kind": "launch"},
    {"id": "lonely", "kind": "poll"},
    {"id": "long", "kind": "launch", "local": {"program": "sh",
      "args": ["-c", "i=0; while [ $i -lt 500 ]; do echo line-$i-xxxxxxxxxxxxxxxx >&2; i=$((i+1)); done; exit 1"]}},
    {"id": "wait_long", "kind": "poll", "after": ["long"]}])");
  local::LocalServices s(sc);
  const OpResult missing = run(s, sc, "missing");
  CHECK_FALSE(missing.ok);
  CHECK_THAT(missing.reason, Catch::Contains("'no-such-program-for-stepq' is not on PATH"));
  const OpResult never = run(s, sc, "wait_missing");  // nothing was started, so nothing to wait for
  CHECK_FALSE(never.ok);
  CHECK_THAT(never.reason, Catch::Contains("nothing was launched for step 'missing'"));
  const OpResult unsaid = run(s, sc, "unsaid");
  CHECK_FALSE(unsaid.ok);
  CHECK_THAT(unsaid.reason, Catch::Contains("\"program\""));
  const OpResult lonely = run(s, sc, "lonely");
  CHECK_FALSE(lonely.ok);
  CHECK_THAT(lonely.reason, Catch::Contains("no launch step among its predecessors"));

  // 13 KB of stderr: the reason quotes only its end (about 2 KB).
  REQUIRE(run(s, sc, "long").ok);
  const OpResult long_ = poll_until_done(s, sc, "wait_long");
  CHECK_FALSE(long_.ok);
  CHECK_THAT(long_.reason, Catch::EndsWith("line-499-xxxxxxxxxxxxxxxx"));
  CHECK_THAT(long_.reason, !Catch::Contains("line-0-"));
  CHECK(long_.reason.size() < 2300);
}

TEST_CASE("local: many threads launch, poll and fetch at once") {
  TempDir tmp;
  write_file(tmp.path / "in.txt", std::string(100000, 'a'));
  const std::string sum = sha256sum(tmp.path / "in.txt");
  const Scenario sc =
      scenario(tmp.path / "root", R"([
    {"id": "home", "kind": "storage"},
    {"id": "get", "kind": "data", "local": {"url": "file://)" +
                                      (tmp.path / "in.txt").string() + R"(", "sha256": ")" + sum + R"("}},
    {"id": "run", "kind": "launch", "local": {"program": "sh", "args": ["-c", "wc -c < in.txt > count.txt"]}},
    {"id": "wait", "kind": "poll", "after": ["run"]}])");
  local::LocalServices s(sc);
  constexpr int kThreads = 8, kSessions = 4;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const std::uint64_t session = t % kSessions;  // two threads per session: same steps, same files
      for (const char* id : {"home", "get", "run"})
        if (OpResult r = run(s, sc, id, session); !r.ok) errors[t] += std::string(id) + ": " + r.reason + "\n";
      for (int n = 0; n < 1000; ++n) {
        const OpResult r = run(s, sc, "wait", session);
        if (!r.ok) errors[t] += "wait: " + r.reason + "\n";
        if (!r.ok || r.ready) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(errors[t].empty());
  }
  for (int n = 0; n < kSessions; ++n) {
    const auto dir = tmp.path / "root" / ("session-" + std::to_string(n));
    INFO(dir);
    CHECK(sha256sum(dir / "in.txt") == sum);
    CHECK(slurp(dir / "count.txt") == "100000\n");
    CHECK(slurp(dir / ".stepq" / "run.exit") == "exit 0\n");
    CHECK(leftovers(dir).empty());
  }
}

TEST_CASE("local: scenario keys are read per op and checked") {
  const auto error_of = [](const std::string& steps) -> std::string {
    try {
      scenario("/tmp/r", steps);
    } catch (const ScenarioError& e) {
      return e.what();
    }
    return "no error";
  };
  const Scenario sc = scenario("/tmp/r", R"([
    {"id": "l", "kind": "launch", "local": {"program": "sh", "args": ["-c", "true"], "env": {"A": "1", "B": ""}}},
    {"id": "d", "kind": "data", "local": {"url": "https://x/y", "size_bytes": 2e3,
      "sha256": "7FE077060630DA4E0526254A52ACE3BBCFBEC4634C9C17A9756B7FFB2BC131F2"}}])");
  CHECK(sc.platform.local_root == "/tmp/r");
  const LocalStep& l = *sc.templates[0].steps[0].local;
  CHECK(l.program == "sh");
  CHECK(l.args == std::vector<std::string>{"-c", "true"});
  CHECK(l.env == std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", ""}});
  const LocalStep& d = *sc.templates[0].steps[1].local;
  CHECK(d.size_bytes == 2000);
  CHECK(d.sha256 == "7fe077060630da4e0526254a52ace3bbcfbec4634c9c17a9756b7ffb2bc131f2");  // lower case

  CHECK(parse_scenario(R"({"sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
      "kinds": {"w": {"threads": 1, "service_s": 0}}, "templates": [{"name": "t", "steps": [{"id": "w", "kind": "w"}]}]})",
                       "x.json")
            .platform.local_root == "stepq-sessions");

  CHECK_THAT(error_of(R"([{"id": "d", "kind": "data", "local": {"sha256": "00"}}])"),
             Catch::Contains("/templates/0/steps/0/local/url: required for op \"data\""));
  CHECK_THAT(error_of(R"([{"id": "l", "kind": "launch", "local": {"args": []}}])"),
             Catch::Contains("/templates/0/steps/0/local/program: required for op \"launch\""));
  CHECK_THAT(error_of(R"([{"id": "d", "kind": "data", "local": {"url": "ftp://x/y"}}])"),
             Catch::Contains("/local/url: must start with file:, http:// or https://"));
  CHECK_THAT(error_of(R"([{"id": "s", "kind": "storage", "local": {"size_bytes": 1.5}}])"),
             Catch::Contains("/local/size_bytes: must be a non-negative integer"));
  CHECK_THAT(error_of(R"([{"id": "s", "kind": "storage", "local": {"program": "sh"}}])"),
             Catch::Contains("/local/program: not read by op \"storage\""));
  CHECK_THAT(error_of(R"([{"id": "p", "kind": "poll", "local": {}}])"),
             Catch::Contains("/templates/0/steps/0/local: only for kinds with op"));
  CHECK_THAT(error_of(R"([{"id": "l", "kind": "launch", "local": {"program": "sh", "env": {"A=B": "1"}}}])"),
             Catch::Contains("/local/env/A=B: not a valid environment variable name"));
  CHECK_THAT(error_of(R"([{"id": "l", "kind": "launch", "local": {"program": "sh", "arg": []}}])"),
             Catch::Contains("/local/arg: unknown key; did you mean 'args'?"));
}

TEST_CASE("local: release stops what the session's launches started, cleanup empties a WriteTemp directory",
          "[local]") {
  TempDir tmp;
  const Scenario sc =
      scenario(tmp.path / "root",
               R"([{"id": "home", "kind": "storage", "mount": "WriteTemp"},
                                   {"id": "in", "kind": "data", "after": ["home"], "local": {"url": "file:in.txt"}},
                                   {"id": "l", "kind": "launch", "after": ["in"], "local": {"program": "sleep", "args": ["30"]}}])",
               (tmp.path / "s.json").string(), R"([{"id": "c", "kind": "cleanup"}, {"id": "p", "kind": "pushback"}])");
  write_file(tmp.path / "in.txt", "input");
  local::LocalServices svc(sc);
  REQUIRE(run(svc, sc, "home").ok);
  REQUIRE(run(svc, sc, "in").ok);
  REQUIRE(run(svc, sc, "l").ok);
  const fs::path dir = svc.session_dir(7);
  CHECK(fs::exists(dir / "in.txt"));
  // The program runs until the session's compute is given back: the delete op stops it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long pid = 0;
  std::string host;
  std::ifstream(dir / ".stepq" / "l.monitor") >> pid >> host;
  REQUIRE(pid > 0);
  const pid_t group = getpgid(static_cast<pid_t>(pid));
  REQUIRE(group > 0);
  // (A delete step needs a session on a cluster, which the live engine does not run yet: call
  // the op directly; LocalServices reads only the session and template from the context.)
  StepRef ref;
  ref.session = 7;
  const StepContext c{sc, sc.kinds[sc.kind_index("cleanup")], sc.templates[0].steps[3], ref, session_key(sc.seed, 7)};
  CHECK(svc.remove(c).ok);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = kill(-group, 0) != 0 && errno == ESRCH;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(gone);
  CHECK(svc.remove(c).ok);  // again: nothing left to stop
  // cleanup: the storage item is WriteTemp, so the session directory is emptied but for .stepq.
  CHECK(run(svc, sc, "c").ok);
  CHECK_FALSE(fs::exists(dir / "in.txt"));
  CHECK(fs::exists(dir / ".stepq" / "l.launched"));
  // pushback has nowhere to go on this machine.
  const OpResult p = run(svc, sc, "p");
  CHECK_FALSE(p.ok);
  CHECK_THAT(p.reason, Catch::Contains("nowhere to push output back to"));
}
