// `stepq live run --platforms FILE`: the image kind checked against a real OCI registry
// (Debian's docker-registry on 127.0.0.1, tests/registry_server.hpp), the other kinds emulated;
// and platforms files that cannot be used refused with the file, the JSON pointer and exit 2.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "registry_server.hpp"

using namespace stepq::test;

namespace {

// Two templates alike but for the image their platforms entry names.
const std::string kScenario = R"({"name": "pf", "seed": 1, "sessions": 10,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "kinds": {"image.pull": {"op": "image", "threads": 2, "service_s": 1},
            "work": {"threads": 2, "service_s": 1}},
  "templates": [
    {"name": "good", "steps": [{"id": "i", "kind": "image.pull"}, {"id": "w", "kind": "work", "after": ["i"]}]},
    {"name": "missing", "steps": [{"id": "i", "kind": "image.pull"}, {"id": "w", "kind": "work", "after": ["i"]}]}]})";

std::string write(const TempDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d / name) << text;
  return d / name;
}

}  // namespace

TEST_CASE(
    "live platforms: the image kind asks a real registry: sessions whose image exists complete, the others fail saying "
    "why") {
  Registry reg;
  reg.push_image("skaha/notebook", "1.2");
  TempDir d;
  write(d, "s.json", kScenario);
  write(d, "p.json",
        R"(// the image step against the registry, everything else emulated
    {"default": "emulated",
     "kinds": {"image.pull": {"adapter": "registry", "url": ")" +
            reg.url + R"(/", "total_timeout_s": 5,
                              "images": {"good": "127.0.0.1:5000/skaha/notebook:1.2",
                                         "missing": "skaha/notebook:9.9"}}}})");
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", "10", "-q"}, d.path).status == 0);
  const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.01", "--until-idle"},
                             d.path, 120);
  INFO(r.err);
  REQUIRE(r.status == 0);
  SqlDb db(d / "stepq.db");
  const auto good =
      db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template WHERE t.name = 'good'");
  const auto missing =
      db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template WHERE t.name = 'missing'");
  REQUIRE(good > 0);
  REQUIRE(missing > 0);
  CHECK(db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template "
                 "WHERE t.name = 'good' AND s.phase = 'COMPLETED'") == good);
  CHECK(db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template "
                 "WHERE t.name = 'missing' AND s.phase = 'FAILED' AND s.reason LIKE '%HTTP 404%' "
                 "AND s.reason LIKE '%no such image: skaha/notebook:9.9%'") == missing);
  // Each completed image step's execution records the digest and size the registry gave.
  CHECK(db.count("SELECT count(*) FROM execution e JOIN kind k ON k.id = e.kind WHERE k.name = 'image.pull' "
                 "AND e.outcome = 'completed' AND e.reason LIKE 'skaha/notebook:1.2 sha256:%, % bytes'") == good);
  // The registry was asked: its work steps ran only for the sessions whose image exists.
  CHECK(db.count("SELECT count(*) FROM step st JOIN kind k ON k.id = st.kind WHERE k.name = 'work' AND st.phase = 4") ==
        good);

  // The registry gone: an image step is retried, then fails with the reason, never a crash.
  reg.proc.reset();
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", "2", "-q"}, d.path).status == 0);
  const Result down = run_stepq(
      {"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.01", "--until-idle"}, d.path, 120);
  INFO(down.err);
  CHECK(down.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE id >= 10 AND phase = 'FAILED' AND reason LIKE '%no answer%'") ==
        2);
}

TEST_CASE("live platforms: a platforms file it cannot use exits 2 naming the file and the JSON pointer") {
  TempDir d;
  write(d, "s.json", kScenario);
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);
  ::unsetenv("STEPQ_TEST_UNSET_PASSWORD");
  struct Case {
    const char* text;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {R"({"kinds": {"image.pul": {"adapter": "registry"}}})",
       {"p.json: /kinds/image.pul: unknown key", "did you mean 'image.pull'"}},
      {R"({"kinds": {"image.pull": {"adapter": "regsitry"}}})", {"/kinds/image.pull/adapter: must be", "\"registry\""}},
      {R"({"kinds": {"work": {"adapter": "registry", "url": "http://r"}}})",
       {"/kinds/work/adapter", "runs image kinds"}},
      {R"({"kinds": {"image.pull": {"adapter": "registry", "url": "ftp://r", "image": "a:1"}}})",
       {"/kinds/image.pull/url", "http://"}},
      {R"({"kinds": {"image.pull": {"adapter": "registry", "url": "http://r"}}})",
       {"/kinds/image.pull/image", "no image for template good"}},
      {R"({"kinds": {"image.pull": {"adapter": "registry", "url": "http://r", "image": "a", "username": "u",
           "password_env": "STEPQ_TEST_UNSET_PASSWORD"}}})",
       {"/kinds/image.pull/password_env", "STEPQ_TEST_UNSET_PASSWORD is not set"}},
      {R"({"kinds": {"work": {"adapter": "local"}}})", {"/kinds/work/adapter", "as /default"}},
      {R"({"default": "simulated"})", {"/default: must be \"emulated\" or \"local\""}},
      {R"({"kinds": {"work": {"adapter": "emulated", "url": "http://r"}}})", {"/kinds/work/url: unknown key"}},
      {R"({"kinds": {)", {"p.json: line 1"}},
  };
  for (const auto& c : cases) {
    write(d, "p.json", c.text);
    const Result r = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--until-idle"}, d.path, 60);
    INFO(c.text << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("error: "));
    for (const auto& s : c.says) CHECK_THAT(r.err, Catch::Contains(s));
  }
  const Result both = run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--platform", "local"}, d.path, 60);
  CHECK(both.status == 2);
  CHECK_THAT(both.err, Catch::Contains("drop --platform local"));
  const Result none = run_stepq({"live", "run", "s.json", "--platforms", "nosuch.json"}, d.path, 60);
  CHECK(none.status == 2);
  CHECK_THAT(none.err, Catch::Contains("nosuch.json: cannot read"));
}
