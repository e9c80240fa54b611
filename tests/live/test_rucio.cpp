// The rucio and srcnet adapters end to end: `stepq live run --platforms` with the data, lease and
// release kinds on a loopback Rucio / SRCNet server (tests/rucio/rucio_srcnet_server.py) whose
// rules replicate over time and which injects faults; the other kinds emulated at --time-scale
// 0.01. Every run is also searched for the password and every token the server issued.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "live/db_check.hpp"
#include "live/processes.hpp"
#include "rucio/rucio_server.hpp"

using namespace stepq::test;
using nlohmann::json;

namespace {

const char* const kPassword = "Rucio-PW-4f1d-SECRET";
const char* const kBearer = "DM-Token-77e2-SECRET";

// "good" sessions ask for testing:obs-N.ms, "bad" ones for testing:bad-N.ms (the server can make
// those STUCK); the lease kind extends the rules' lifetime once the data is there; release deletes.
const std::string kScenario = R"({"name": "rc", "seed": 3, "sessions": 8,
  "arrivals": {"process": "poisson", "rate_per_s": 2},
  "kinds": {"data": {"op": "data", "threads": 4, "service_s": 1,
                     "retry": {"max_attempts": 6, "backoff_s": 5, "backoff_factor": 1}},
            "lease": {"op": "work", "threads": 1, "service_s": 1,
                      "retry": {"max_attempts": 6, "backoff_s": 5, "backoff_factor": 1}},
            "work": {"threads": 2, "service_s": 20},
            "release": {"op": "cleanup", "threads": 1, "service_s": 1,
                        "retry": {"max_attempts": 6, "backoff_s": 5, "backoff_factor": 1}}},
  "templates": [
    {"name": "good", "steps": [{"id": "in", "kind": "data"}, {"id": "lease", "kind": "lease", "after": ["in"]},
                               {"id": "w", "kind": "work", "after": ["lease"]}],
     "release": [{"id": "rel", "kind": "release"}]},
    {"name": "bad", "steps": [{"id": "inbad", "kind": "data"}, {"id": "lease", "kind": "lease", "after": ["inbad"]},
                              {"id": "w", "kind": "work", "after": ["lease"]}],
     "release": [{"id": "rel", "kind": "release"}]}]})";

std::string write(const TempDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d / name) << text;
  return d / name;
}

// The server's settings for the adapter: the password the test gives the adapter.
json server_config(json more = json::object()) {
  json c = {{"password", kPassword}, {"bearer", kBearer}, {"replicate_s", 1.5}, {"dids", {"testing:*"}}};
  c.update(more);
  return c;
}

// Rucio for the data, lease and release kinds; `extra` goes into the shared entry.
std::string rucio_platforms(const RucioServer& s, const std::string& extra = "", const std::string& lifetime = "600") {
  return R"(// the data kinds on Rucio, the lease and the release too
    {"instance": "rt",
     "adapters": {"rucio": {"url": ")" +
         s.url + R"(", "account": "broker", "username": "ann",
                            "password_env": "STEPQ_TEST_RUCIO_PW", "rse_expression": "SITE_A_DISK",
                            "dids": {"in": "testing:obs-{session}.ms", "inbad": "testing:bad-{session}.ms"},
                            "connect_timeout_s": 2, "total_timeout_s": 1)" +
         extra + R"(}},
     "kinds": {"data": {"adapter": "rucio", "lifetime_s": )" +
         lifetime + R"(},
               "lease": {"adapter": "rucio", "lifetime_s": 7200},
               "release": {"adapter": "rucio"}}})";
}

struct Run {
  TempDir d;
  std::vector<Result> results;
  Run() {
    ::setenv("STEPQ_TEST_RUCIO_PW", kPassword, 1);
    ::setenv("STEPQ_TEST_DM_TOKEN", kBearer, 1);
    write(d, "s.json", kScenario);
    REQUIRE(stepq({"live", "init"}).status == 0);
  }
  Result stepq(const std::vector<std::string>& args, double timeout_s = 120) {
    results.push_back(run_stepq(args, d.path, timeout_s));
    return results.back();
  }
  Result submit_and_run(int sessions) {
    REQUIRE(stepq({"live", "submit", "s.json", "--sessions", std::to_string(sessions), "-q"}).status == 0);
    const Result r = stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.01", "--until-idle"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return r;
  }
  // Sessions of a template (`good`, `bad`) in a phase; "" = any phase.
  long long sessions(const std::string& tmpl, const std::string& phase = "") {
    SqlDb db(d / "stepq.db");
    return db.count("SELECT count(*) FROM session s JOIN template t ON t.id = s.template WHERE t.name = '" + tmpl +
                    "'" + (phase.empty() ? "" : " AND s.phase = '" + phase + "'"));
  }
  // No secret in anything stepq printed, nor in the database's bytes.
  void no_secrets(const RucioServer& s) {
    std::vector<std::string> secrets = {kPassword, kBearer};
    // The state held in a variable: a range-for over a member of a temporary reads freed memory
    // (the temporary ends before the loop; C++20 extends only the range expression's own life).
    const json state = s.state();
    for (const auto& t : state["tokens"]) secrets.push_back(t.get<std::string>());
    std::string all;
    for (const auto& r : results) all += r.out + r.err;
    const Result st = stepq({"live", "status"});
    all += st.out + st.err;
    for (const char* f : {"stepq.db", "stepq.db-wal"}) all += Proc::slurp(d / f);
    REQUIRE(all.size() > 1000);
    for (const auto& secret : secrets) {
      INFO("secret " << secret.substr(0, 12) << "...");
      CHECK(all.find(secret) == std::string::npos);
    }
  }
};

// Every rule the server ever made, grouped by its comment (the step's external name).
std::map<std::string, std::vector<json>> rules_by_comment(const json& state) {
  std::map<std::string, std::vector<json>> m;
  for (const auto& r : state["rules"]) m[r["comments"].get<std::string>()].push_back(r);
  return m;
}

}  // namespace

TEST_CASE("live rucio: data steps wait for their rules REPLICATING then OK, leases are extended, release deletes") {
  // Tokens that end after 3 s, renewed 0.6 s before; the data steps poll for 4 s.
  RucioServer server(server_config({{"token_lifetime_s", 3}, {"replicate_s", 4}}));
  Run run;
  write(run.d, "p.json", rucio_platforms(server));
  run.submit_and_run(8);
  CHECK(run.sessions("good", "COMPLETED") + run.sessions("bad", "COMPLETED") == 8);
  const json st = server.state();
  // One rule per session, made once, commented with its step's external name, lease extended
  // (lifetime 7200 set after creation with 600), deleted by the release step.
  const auto by = rules_by_comment(st);
  CHECK(by.size() == 8);
  for (const auto& [comment, rules] : by) {
    INFO(comment);
    CHECK_THAT(comment, Catch::Matches("rt-[0-9]+-(in|inbad)"));
    REQUIRE(rules.size() == 1);
    const json& r = rules[0];
    CHECK(r["account"] == "broker");
    CHECK(r["rse_expression"] == "SITE_A_DISK");
    CHECK(r["activity"] == "User Subscriptions");
    CHECK(r["state"] == "OK");
    CHECK(r["lifetime_updates"].get<int>() >= 1);
    CHECK(r["expires"].get<double>() - r["created"].get<double>() > 7000);
    CHECK(r["deleted_by"] == "delete");
    // A data step completes only after its rule is OK: the lease step after it ran no sooner.
    CHECK(r["deleted_at"].get<double>() - r["created"].get<double>() >= 4);
  }
  // A token per kind (data, lease, release), and the data kind's renewed…
  CHECK(st["stats"]["auths"].get<int>() >= 4);
  CHECK(st["stats"]["unauthorized"].get<int>() == 0);  // …before the server refused it
  CHECK(st["stats"]["not_acceptable"].get<int>() == 0);
  run.no_secrets(server);
}

TEST_CASE("live rucio: a token the server ends before its announced expiry is renewed on the 401") {
  RucioServer server(server_config({{"token_lifetime_s", 1}, {"token_advertised_s", 3600}, {"replicate_s", 2.5}}));
  Run run;
  write(run.d, "p.json", rucio_platforms(server));
  run.submit_and_run(6);
  CHECK(run.sessions("good", "COMPLETED") + run.sessions("bad", "COMPLETED") == 6);
  const json st = server.state();
  CHECK(st["stats"]["unauthorized"].get<int>() >= 1);
  CHECK(st["stats"]["auths"].get<int>() >= 2);
  CHECK(rules_by_comment(st).size() == 6);
  run.no_secrets(server);
}

TEST_CASE(
    "live rucio: 500 bursts, dropped create replies and answers past the timeout leave exactly one rule per step") {
  RucioServer server(server_config({{"replicate_s", 1}}));
  Run run;
  write(run.d, "p.json", rucio_platforms(server));
  // Faults from the first call on: the first creates' replies are lost although the server made
  // the rules, a burst of 500s, and two answers 3 s late (total_timeout_s is 1).
  server.control({{"drop_next_create", 3}, {"fail_next", 4}, {"slow_next", 2}, {"slow_s", 3}});
  run.submit_and_run(8);
  CHECK(run.sessions("good", "COMPLETED") + run.sessions("bad", "COMPLETED") == 8);
  const json st = server.state();
  CHECK(st["stats"]["dropped"] == 3);
  CHECK(st["stats"]["failed"] == 4);
  CHECK(st["stats"]["slowed"] == 2);
  const auto by = rules_by_comment(st);
  CHECK(by.size() == 8);
  for (const auto& [comment, rules] : by) {
    INFO(comment);
    CHECK(rules.size() == 1);
    CHECK(rules[0]["deleted_by"] == "delete");
  }
  CHECK(st["rules"].size() == 8);
  // The steps whose attempt saw a fault say so in the execution log: retried, not failed.
  SqlDb db(run.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED'") == 0);
  run.no_secrets(server);
}

TEST_CASE("live rucio: a STUCK rule fails its session naming STUCK, and the release deletes the rules") {
  RucioServer server(server_config({{"replicate_s", 0.5}, {"stuck", {"testing:bad-*"}}}));
  Run run;
  write(run.d, "p.json", rucio_platforms(server));
  run.submit_and_run(8);
  const long long good = run.sessions("good"), bad = run.sessions("bad");
  REQUIRE(good > 0);
  REQUIRE(bad > 0);
  CHECK(run.sessions("good", "COMPLETED") == good);
  CHECK(run.sessions("bad", "FAILED") == bad);
  SqlDb db(run.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%is STUCK: locks_stuck_cnt 1%' "
                 "AND reason LIKE '%TRANSFER_FAILED%' AND reason LIKE '%testing:bad-%'") == bad);
  const json st = server.state();
  const auto by = rules_by_comment(st);
  CHECK(static_cast<long long>(by.size()) == good + bad);
  for (const auto& [comment, rules] : by) {
    INFO(comment);
    REQUIRE(rules.size() == 1);
    CHECK(rules[0]["state"] == (comment.find("inbad") != std::string::npos ? "STUCK" : "OK"));
    CHECK(rules[0]["deleted_by"] == "delete");  // compensation: the failed sessions' rules too
  }
  run.no_secrets(server);
}

TEST_CASE("live rucio: a rule not OK within max_wait_s fails, a rule expired meanwhile is made again") {
  RucioServer server(server_config({{"replicate_s", 30}}));
  Run run;
  write(run.d, "p.json", rucio_platforms(server, R"(, "max_wait_s": 2)"));
  run.submit_and_run(2);
  SqlDb db(run.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%is still REPLICATING%' "
                 "AND reason LIKE '%max_wait_s 2%'") == 2);

  // Rules that expire while their steps wait (GET answers 404): made again, then OK.
  server.control({{"replicate_s", 2}});
  write(run.d, "p.json", rucio_platforms(server));
  REQUIRE(run.stepq({"live", "submit", "s.json", "--sessions", "2", "-q"}).status == 0);
  Proc bg(
      stepq::test::stepq({"live", "run", "s.json", "--platforms", "p.json", "--time-scale", "0.01", "--until-idle"}),
      run.d.path, "bg");
  REQUIRE(within(20, [&] { return server.state()["rules"].size() == 4; }));  // 2 from before, 2 new
  server.control({{"expire_rules", true}});
  const Result r = bg.wait(120);
  run.results.push_back(r);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(db.count("SELECT count(*) FROM session WHERE id >= 2 AND phase = 'COMPLETED'") == 2);
  std::size_t remade = 0;
  for (const auto& [comment, rules] : rules_by_comment(server.state()))
    if (rules.size() == 2 && rules[0]["deleted_by"] == "expired" && rules[1]["deleted_by"] == "delete" &&
        rules[1]["state"] == "OK")
      ++remade;
  CHECK(remade == 2);
  run.no_secrets(server);
}

TEST_CASE("live rucio: a wrong password fails the steps with Rucio's CannotAuthenticate, scrubbed of the password") {
  // A careless server that quotes the password it was sent.
  RucioServer server(server_config({{"password", "something-else"}, {"echo_secrets", true}}));
  Run run;
  write(run.d, "p.json", rucio_platforms(server));
  run.submit_and_run(2);
  SqlDb db(run.d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%rucio authentication%' "
                 "AND reason LIKE '%HTTP 401: CannotAuthenticate%' AND reason LIKE '%***%'") == 2);
  CHECK(server.state()["rules"].empty());
  run.no_secrets(server);
}

TEST_CASE("live srcnet: a replica at the local RSE completes at once with no rule, elsewhere a Rucio rule is made") {
  // obs-* already at SITE_LOCAL (bind-mounted: no rule), bad-* only at FAR_AWAY (a rule to
  // SITE_LOCAL, made by the fallback to Rucio).
  RucioServer server(
      server_config({{"replicate_s", 1},
                     {"replicas", {{"testing:obs-*", {"SITE_LOCAL", "FAR_AWAY"}}, {"testing:bad-*", {"FAR_AWAY"}}}}}));
  Run run;
  write(run.d, "p.json",
        R"({"instance": "rt",
     "adapters": {"srcnet": {"url": ")" +
            server.url + R"(", "token_env": "STEPQ_TEST_DM_TOKEN",
                             "local_rse": "SITE_LOCAL", "total_timeout_s": 2,
                             "dids": {"in": "testing:obs-{session}.ms", "inbad": "testing:bad-{session}.ms"},
                             "rucio": {"url": ")" +
            server.url + R"(", "account": "broker", "username": "ann",
                                       "password_env": "STEPQ_TEST_RUCIO_PW", "total_timeout_s": 2}}},
     "kinds": {"data": {"adapter": "srcnet"}, "lease": {"adapter": "srcnet"}, "release": {"adapter": "srcnet"}}})");
  for (const char* shape : {"list", "map"}) {
    INFO("locate shape " << shape);
    server.control({{"locate_shape", shape}});
    const long long before = run.sessions("good") + run.sessions("bad");
    run.submit_and_run(6);
    CHECK(run.sessions("good", "COMPLETED") + run.sessions("bad", "COMPLETED") == before + 6);
    const json st = server.state();
    long long bad_rules = 0;
    for (const auto& r : st["rules"]) {
      CHECK_THAT(r["name"].get<std::string>(), Catch::StartsWith("bad-"));  // none for a local replica
      CHECK(r["rse_expression"] == "SITE_LOCAL");
      CHECK(r["deleted_by"] == "delete");
      ++bad_rules;
    }
    CHECK(bad_rules == run.sessions("bad"));
    CHECK(st["stats"]["locates"].get<long long>() >= before + 6);
  }
  // A token the API refuses: the data steps fail with its 401, the token not in sight.
  ::setenv("STEPQ_TEST_DM_TOKEN", "not-the-token", 1);
  run.submit_and_run(2);
  SqlDb db(run.d / "stepq.db");
  CHECK(
      db.count(
          "SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%SRCNet locate testing:%HTTP 401%'") ==
      2);
  ::setenv("STEPQ_TEST_DM_TOKEN", kBearer, 1);
  run.no_secrets(server);
}

TEST_CASE("live rucio: platforms files the rucio and srcnet adapters cannot use exit 2 naming the file and pointer") {
  Run run;
  ::unsetenv("STEPQ_TEST_UNSET_PW");
  const std::string base = R"("adapter": "rucio", "url": "http://r", "account": "a", "username": "u", )";
  const std::string pw = R"("password_env": "STEPQ_TEST_RUCIO_PW", )";
  const std::string dm =
      R"("adapter": "srcnet", "url": "http://d", "token_env": "STEPQ_TEST_DM_TOKEN", "did": "s:n", )";
  struct Case {
    std::string text;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {R"({"kinds": {"data": {)" + base +
           R"("password_env": "STEPQ_TEST_UNSET_PW", "rse_expression": "X", "did": "s:n"}}})",
       {"p.json: /kinds/data/password_env", "STEPQ_TEST_UNSET_PW is not set"}},
      {R"({"kinds": {"data": {)" + base + R"("rse_expression": "X", "did": "s:n"}}})",
       {"/kinds/data: missing \"password_env\""}},
      {R"({"kinds": {"data": {)" + base + pw + R"("rse_expresion": "X", "did": "s:n"}}})",
       {"/kinds/data/rse_expresion: unknown key", "did you mean 'rse_expression'"}},
      {R"({"kinds": {"data": {)" + base + pw + R"("did": "s:n"}}})", {"/kinds/data: missing \"rse_expression\""}},
      {R"({"kinds": {"data": {)" + base + pw + R"("rse_expression": "X", "did": "nocolon"}}})",
       {"/kinds/data/did: must be a DID \"scope:name\""}},
      {R"({"kinds": {"data": {)" + base + pw + R"("rse_expression": "X", "dids": {"in": "s:n", "w": "s:m"}}}})",
       {"/kinds/data/dids/w: step w is not a data step", "op \"work\""}},
      {R"({"kinds": {"data": {)" + base + pw + R"("rse_expression": "X", "dids": {"inn": "s:n"}}}})",
       {"/kinds/data/dids/inn: unknown key", "did you mean 'in'"}},
      {R"({"kinds": {"data": {)" + base + pw + R"("rse_expression": "X", "dids": {"in": "s:n"}}}})",
       {"/kinds/data: no DID for step inbad of template bad"}},
      {R"({"kinds": {"release": {)" + base + pw + R"("rse_expression": "X"}}})", {"/kinds/release: missing \"dids\""}},
      {R"({"kinds": {"data": {)" + dm + R"("rucio": {"url": "http://r", "account": "a", "username": "u"}}}})",
       {"/kinds/data: missing \"local_rse\""}},
      {R"({"kinds": {"data": {)" + dm + R"("local_rse": "L", "rucio": {"url": "http://r", "acount": "a"}}}})",
       {"/kinds/data/rucio/acount: unknown key", "did you mean 'account'"}},
      {R"({"kinds": {"data": {)" + dm + R"("local_rse": "L"}}})", {"/kinds/data: missing \"rucio\""}},
      {R"({"kinds": {"data": {"adapter": "srcnet", "url": "http://d", "did": "s:n", "local_rse": "L"}}})",
       {"/kinds/data: missing \"token_env\""}},
      {R"({"kinds": {"data": {)" + dm + R"("local_rse": "L", "locate_path": "/data/{namespace}",
           "rucio": {"url": "http://r", "account": "a", "username": "u", "password_env": "STEPQ_TEST_RUCIO_PW"}}}})",
       {"/kinds/data/locate_path: must start with '/' and hold {name}"}},
  };
  for (const auto& c : cases) {
    write(run.d, "p.json", c.text);
    const Result r = run.stepq({"live", "run", "s.json", "--platforms", "p.json", "--until-idle"}, 60);
    INFO(c.text << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("error: p.json"));
    for (const auto& s : c.says) CHECK_THAT(r.err, Catch::Contains(s));
    CHECK(r.err.find(kPassword) == std::string::npos);
  }
}
