// `stepq live run --platforms FILE` with the storage and cleanup kinds on the cavern adapter,
// against tests/cavern/cavern_server.py (VOSpace 2.1 as Cavern serves it): one ContainerNode per
// session, its quota, its deletion at release (also of what the session wrote in it), the faults
// a service has (503 bursts, a create whose reply is lost, a bad token), and platforms files
// that cannot be used.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "cavern/cavern_server.hpp"
#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;
using nlohmann::json;

namespace {

// Two storage steps per session share its container (the second finds it: 409, then GET); the
// work step is emulated; the release step deletes the container.
const std::string kScenario = R"({"name": "cv", "seed": 3, "sessions": 8,
  "arrivals": {"process": "poisson", "rate_per_s": 5},
  "platform": {"storage": {"cavern": {"quota_bytes": 1e9}}},
  "kinds": {"storage": {"op": "storage", "threads": 2, "service_s": 0.1,
                        "retry": {"max_attempts": 5, "backoff_s": 0.1}},
            "work": {"threads": 2, "service_s": 0.5},
            "clean": {"op": "cleanup", "threads": 2, "service_s": 0.1, "retry": {"max_attempts": 5, "backoff_s": 0.1}}},
  "templates": [{"name": "t",
    "steps": [{"id": "home", "kind": "storage", "area": "cavern", "bytes": 1000, "mount": "WriteTemp"},
              {"id": "scratch", "kind": "storage", "area": "cavern", "bytes": 1000, "mount": "WriteTemp"},
              {"id": "w", "kind": "work", "after": ["home", "scratch"]}],
    "release": [{"id": "clean", "kind": "clean"}]}]})";

const char* kTokenVar = "STEPQ_TEST_CAVERN_TOKEN";
const std::string kToken = "cavern-tok-5f3a9c17e2d84b60";

std::string write(const TempDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d / name) << text;
  return d / name;
}

std::string platforms(const std::string& url, const std::string& base = "home/stepq") {
  return R"(// storage and release on Cavern, the work emulated
    {"adapters": {"cavern": {"url": ")" +
         url + R"(", "authority_uri": "vos://example.org~cavern",
                              "base": ")" +
         base + R"(", "token_env": ")" + kTokenVar + R"(", "total_timeout_s": 5}},
     "kinds": {"storage": {"adapter": "cavern"}, "clean": {"adapter": "cavern"}}})";
}

// Submits `n` sessions and runs them to the end; the run's output.
Result run(const TempDir& d, int n, const std::string& platforms_text) {
  write(d, "s.json", kScenario);
  write(d, "p.json", platforms_text);
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", std::to_string(n), "-q"}, d.path).status == 0);
  Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.01", "--until-idle"},
                       d.path, 120);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return r;
}

// Session containers the server ever created (path -> times) and those still there.
std::map<std::string, int> created(const json& st) {
  std::map<std::string, int> m;
  for (const auto& [path, n] : st["creates"].items())
    if (path.rfind("home/stepq/", 0) == 0) m[path] = n.get<int>();
  return m;
}
int left_under_base(const json& st) {
  int n = 0;
  for (const auto& [path, _] : st["nodes"].items()) n += path.rfind("home/stepq/", 0) == 0;
  return n;
}

void check_one_container_each_and_none_left(const json& st, int sessions) {
  INFO(st.dump());
  const auto c = created(st);
  CHECK(static_cast<int>(c.size()) == sessions);
  for (const auto& [path, times] : c) CHECK(times == 1);
  CHECK(left_under_base(st) == 0);
}

bool contains_file(const std::string& file, const std::string& what) {
  return Proc::slurp(file).find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("live cavern: one container per session, quota read, release deletes it and what was written in it") {
  ::setenv(kTokenVar, kToken.c_str(), 1);
  CavernServer cv(kToken, 1000000);
  // What a session writes: a file beside a container holding another, so the delete recurses.
  cv.control({{"fill", json::array({json::array({"log.txt", 600}), json::array({"out/data/result.fits", 600})})}});
  TempDir d;
  const Result r = run(d, 8, platforms(cv.url));
  SqlDb db(d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session") == 8);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 8);
  const json st = cv.state();
  check_one_container_each_and_none_left(st, 8);
  // Every container was refused once while it held files, and its children listed and deleted.
  CHECK(st["not_empty"].get<int>() >= 8 * 3);
  for (const auto& [path, _] : created(st)) CHECK_THAT(path, Catch::Matches("home/stepq/stepq-[0-9a-f]{8}-[0-9]+"));
  // The token was sent on every call (nothing answered 401), and written nowhere.
  CHECK(st["unauthorized"].get<int>() == 0);
  CHECK(r.out.find(kToken) == std::string::npos);
  CHECK(r.err.find(kToken) == std::string::npos);
  for (const auto& f : std::filesystem::directory_iterator(d.path)) CHECK_FALSE(contains_file(f.path(), kToken));
}

TEST_CASE("live cavern: a step asking more than the free quota fails naming it, and release still deletes it") {
  ::setenv(kTokenVar, kToken.c_str(), 1);
  // 2000 bytes of quota, 1200 used by what is already in the container: 800 free, 1000 asked.
  CavernServer cv(kToken, 2000);
  cv.control({{"fill", json::array({json::array({"log.txt", 600}), json::array({"out/x.fits", 600})})}});
  TempDir d;
  run(d, 4, platforms(cv.url));
  SqlDb db(d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session") == 4);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE "
                 "'%quota: 800 bytes free in home/stepq/stepq-%, step asks for 1000%' "
                 "AND reason LIKE '%after 5 attempts%'") == 4);
  CHECK(db.count("SELECT count(*) FROM step st JOIN kind k ON k.id = st.kind "
                 "WHERE k.name = 'work' AND st.phase = 4") == 0);
  // Every retry found the container made by the first attempt; the release gave it back.
  check_one_container_each_and_none_left(cv.state(), 4);
}

TEST_CASE("live cavern: 503 bursts are waited out, a create whose reply was lost is found, not made twice") {
  ::setenv(kTokenVar, kToken.c_str(), 1);
  CavernServer cv(kToken, 1000000);
  cv.control({{"busy", 12}, {"retry_after", "1"}, {"drop_put", 3}, {"fill", json::array({json::array({"a", 10})})}});
  TempDir d;
  run(d, 6, platforms(cv.url));
  SqlDb db(d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 6);
  const json st = cv.state();
  CHECK(st["busy"].get<int>() == 12);
  CHECK(st["dropped"].get<int>() == 3);
  check_one_container_each_and_none_left(st, 6);

  // Busy without Retry-After: each costs an attempt, and five attempts are enough for two.
  cv.control({{"busy", 2}, {"retry_after", ""}});
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", "2", "-q"}, d.path).status == 0);
  const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.01", "--until-idle"},
                             d.path, 120);
  REQUIRE(r.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 8);
  CHECK(cv.state()["busy"].get<int>() == 14);
  check_one_container_each_and_none_left(cv.state(), 8);
}

TEST_CASE("live cavern: a token the service refuses fails the sessions with HTTP 401 and is written nowhere") {
  ::setenv(kTokenVar, kToken.c_str(), 1);
  CavernServer cv("the-right-token", 1000000, {"home/stepq"});
  TempDir d;
  const Result r = run(d, 3, platforms(cv.url));
  SqlDb db(d / "stepq.db");
  // The session's reason is its release's (its DELETE was refused too); each attempt keeps its own.
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' "
                 "AND reason LIKE '%HTTP 401: NotAuthenticated%'") == 3);
  CHECK(db.count("SELECT count(*) FROM execution e JOIN kind k ON k.id = e.kind WHERE k.name = 'storage' "
                 "AND e.reason LIKE '%not retried%PUT http://127.0.0.1:%/nodes/home/stepq/stepq-%: "
                 "HTTP 401: NotAuthenticated%'") >= 3);
  CHECK(created(cv.state()).empty());
  CHECK(cv.state()["unauthorized"].get<int>() >= 3);
  CHECK(r.out.find(kToken) == std::string::npos);
  CHECK(r.err.find(kToken) == std::string::npos);
  const Result status = run_stepq({"live", "status"}, d.path, 60);
  CHECK(status.out.find(kToken) == std::string::npos);
  for (const auto& f : std::filesystem::directory_iterator(d.path)) CHECK_FALSE(contains_file(f.path(), kToken));

  // A base the user may not write to: 403 PermissionDenied, in the reason.
  CavernServer ro(kToken, 1000000, {"home/stepq", "ro/stepq"}, "ro");
  TempDir d2;
  run(d2, 2, platforms(ro.url, "ro/stepq"));
  SqlDb db2(d2 / "stepq.db");
  CHECK(db2.count("SELECT count(*) FROM session WHERE phase = 'FAILED' "
                  "AND reason LIKE '%HTTP 403: PermissionDenied%'") == 2);
  // A base that does not exist: 404 ContainerNotFound.
  TempDir d3;
  run(d3, 1, platforms(ro.url, "home/nobody"));
  SqlDb db3(d3 / "stepq.db");
  CHECK(db3.count("SELECT count(*) FROM session WHERE phase = 'FAILED' "
                  "AND reason LIKE '%HTTP 404: ContainerNotFound%'") == 1);
}

TEST_CASE("live cavern: a platforms file the cavern adapter cannot use exits 2 naming the file and the JSON pointer") {
  TempDir d;
  write(d, "s.json", kScenario);
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  ::setenv(kTokenVar, kToken.c_str(), 1);
  ::unsetenv("STEPQ_TEST_UNSET_TOKEN");
  const std::string ok = R"("url": "http://127.0.0.1:1", "authority_uri": "vos://a~cavern", "base": "home/u")";
  const std::string tok = std::string(R"(, "token_env": ")") + kTokenVar + "\"";
  struct Case {
    std::string text;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {R"({"kinds": {"storage": {"adapter": "cavern", "url": "http://h", "base": "b")" + tok + "}}}",
       {"p.json: /kinds/storage: authority_uri is required", "vos://"}},
      {R"({"kinds": {"storage": {"adapter": "cavern", )" + ok + R"(, "token_env": "STEPQ_TEST_UNSET_TOKEN"}}})",
       {"/kinds/storage/token_env", "STEPQ_TEST_UNSET_TOKEN is not set"}},
      {R"({"kinds": {"storage": {"adapter": "cavern", )" + ok + "}}}",
       {"/kinds/storage: token_env or token_file is required"}},
      {R"({"kinds": {"storage": {"adapter": "cavern", )" + ok + tok + R"(, "quota": 5}}})",
       {"/kinds/storage/quota: unknown key"}},
      {R"({"kinds": {"storage": {"adapter": "cavern", )" + ok + tok + R"(, "bsae": "x"}}})",
       {"/kinds/storage/bsae: unknown key", "did you mean 'base'"}},
      {R"({"kinds": {"work": {"adapter": "cavern", )" + ok + tok + "}}}",
       {"/kinds/work/adapter", "runs storage, cleanup and delete kinds", "op \"work\""}},
      {R"({"kinds": {"storage": {"adapter": "cavern", "url": "http://h", "authority_uri": "ivo://a/cavern",
           "base": "b")" +
           tok + "}}}",
       {"/kinds/storage/authority_uri: must be vos://"}},
      {R"({"kinds": {"storage": {"adapter": "cavern", "url": "http://h", "authority_uri": "vos://a~c",
           "base": "home/../etc")" +
           tok + "}}}",
       {"/kinds/storage/base: must be a path"}},
      {R"({"adapters": {"cavern": {"url": "h"}}, "kinds": {"storage": {"adapter": "cavern"}}})",
       {"/adapters/cavern/url: must start with http://"}},
      // A device or a huge file is not read for ever; a token of two lines would split a header.
      {R"({"kinds": {"storage": {"adapter": "cavern", )" + ok + R"(, "token_file": "/dev/zero"}}})",
       {"/kinds/storage/token_file", "/dev/zero is larger than 64 KiB"}},
      {R"({"kinds": {"storage": {"adapter": "cavern", )" + ok + R"(, "token_file": "two-lines.token"}}})",
       {"/kinds/storage/token_file", "two-lines.token holds more than one line"}},
  };
  write(d, "two-lines.token", "abc\ndef\n");
  for (const auto& c : cases) {
    write(d, "p.json", c.text);
    const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--until-idle"}, d.path, 60);
    INFO(c.text << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("error: "));
    for (const auto& s : c.says) CHECK_THAT(r.err, Catch::Contains(s));
    CHECK(r.err.find(kToken) == std::string::npos);
  }
}
