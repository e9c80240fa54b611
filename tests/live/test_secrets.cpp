// Issue 15, item 10: secrets never leave the adapters. One run of every HTTP adapter at once —
// Cavern storage, Rucio data, Skaha compute, each with its own recognisable secret — and one
// where every secret is wrong and the Rucio server quotes what it was sent; afterwards every
// byte stepq wrote (stdout, stderr, `live status` as text, JSON and HTML, the database and its
// WAL) is searched for each secret.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "cavern/cavern_server.hpp"
#include "live/db_check.hpp"
#include "rucio/rucio_server.hpp"
#include "skaha/skaha_server.hpp"

using namespace stepq::test;

namespace {

const std::string kScenario = R"({"name": "secrets", "seed": 3, "sessions": 4,
  "arrivals": {"process": "poisson", "rate_per_s": 2},
  "kinds": {"storage": {"op": "storage", "threads": 1, "service_s": 0.1},
            "data": {"op": "data", "threads": 2, "service_s": 0.1},
            "launch": {"op": "launch", "threads": 1, "service_s": 0.1},
            "running": {"op": "poll", "threads": 1, "service_s": 0.01,
                        "poll": {"interval_s": 0.2, "ready_after_s": 0.1}},
            "delete": {"op": "delete", "threads": 1, "service_s": 0.1},
            "clean": {"op": "cleanup", "threads": 1, "service_s": 0.1},
            "unrule": {"op": "cleanup", "threads": 1, "service_s": 0.1}},
  "templates": [{"name": "t", "session": {"run_s": 0.5},
    "steps": [{"id": "home", "kind": "storage"},
              {"id": "in", "kind": "data", "after": ["home"]},
              {"id": "job", "kind": "launch", "after": ["in"]},
              {"id": "running", "kind": "running", "after": ["job"]}],
    "release": [{"id": "del", "kind": "delete"}, {"id": "clean", "kind": "clean"},
                {"id": "unrule", "kind": "unrule"}]}]})";

std::string platforms(const SkahaServer& sk, const RucioServer& ru, const CavernServer& cv) {
  return R"({"instance": "sec",
    "adapters": {
      "skaha": {"url": ")" +
         sk.url + R"(", "token_env": "STEPQ_SECRET_SKAHA",
                "image": "images.canfar.net/skaha/astroml:24.03"},
      "rucio": {"url": ")" +
         ru.url + R"(", "account": "broker", "username": "ann",
                "password_env": "STEPQ_SECRET_RUCIO", "rse_expression": "SITE_A_DISK",
                "dids": {"in": "testing:obs-{session}.ms"}, "poll_interval_s": 0.2},
      "cavern": {"url": ")" +
         cv.url + R"(", "authority_uri": "vos://example.org~cavern", "base": "home/stepq",
                 "token_file": "cavern.token"}},
    "kinds": {"storage": {"adapter": "cavern"}, "clean": {"adapter": "cavern"},
              "data": {"adapter": "rucio"}, "unrule": {"adapter": "rucio"},
              "launch": {"adapter": "skaha"}, "running": {"adapter": "skaha"}, "delete": {"adapter": "skaha"}}})";
}

std::string slurp_all(const TempDir& d) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(d.path))
    if (e.is_regular_file()) all += Proc::slurp(e.path().string());
  return all;
}

// Runs the scenario's sessions to the end, then asks for the status in every form.
void run_all(const TempDir& d, int sessions) {
  REQUIRE(run_stepq({"live", "submit", "s.json", "--sessions", std::to_string(sessions), "-q"}, d.path).status == 0);
  const Result r =
      run_stepq({"live", "run", "s.json", "--platforms", "p.json", "--until-idle", "--time-scale", "0.5"}, d.path, 180);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(run_stepq({"live", "status"}, d.path).status == 0);
  REQUIRE(run_stepq({"live", "status", "--json", "status.json", "--report", "status.html", "-q"}, d.path).status == 0);
}

}  // namespace

TEST_CASE("live secrets: tokens and passwords of every adapter appear in no output, report or database byte") {
  const std::string skaha = "SKAHA-SECRET-7f3c2a91", rucio = "RUCIO-SECRET-b81d0e44", cavern = "CAVERN-SECRET-55aa19c3";
  SkahaServer sk({"--token", skaha, "--pending", "0.2", "--run", "5"});
  RucioServer ru({{"password", rucio}, {"replicate_s", 0.5}, {"dids", {"testing:*"}}, {"echo_secrets", true}});
  CavernServer cv(cavern, 1e9);
  TempDir d;
  std::ofstream(d / "s.json") << kScenario;
  std::ofstream(d / "p.json") << platforms(sk, ru, cv);
  REQUIRE(run_stepq({"live", "init"}, d.path).status == 0);

  ::setenv("STEPQ_SECRET_SKAHA", skaha.c_str(), 1);
  ::setenv("STEPQ_SECRET_RUCIO", rucio.c_str(), 1);
  std::ofstream(d / "cavern.token") << cavern << "\n";
  run_all(d, 4);
  SqlDb db(d / "stepq.db");
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'COMPLETED'") == 4);

  // Every secret wrong; the Rucio server quotes the password it got in its error.
  const std::string wrong_skaha = "WRONG-SKAHA-0c9e", wrong_rucio = "WRONG-RUCIO-4d2b",
                    wrong_cavern = "WRONG-CAVERN-e71f";
  ::setenv("STEPQ_SECRET_SKAHA", wrong_skaha.c_str(), 1);
  ::setenv("STEPQ_SECRET_RUCIO", wrong_rucio.c_str(), 1);
  std::ofstream(d / "cavern.token") << wrong_cavern << "\n";
  run_all(d, 2);
  CHECK(db.count("SELECT count(*) FROM session WHERE phase = 'FAILED' AND reason LIKE '%401%'") == 2);

  std::filesystem::remove(d / "cavern.token");  // the one file that holds a secret by design
  const std::string all = slurp_all(d);
  CHECK(all.size() > 10000);                         // the database, logs and reports are there to search
  CHECK(all.find("HTTP 401") != std::string::npos);  // and the refusals' reasons are in them
  for (const std::string& secret : {skaha, rucio, cavern, wrong_skaha, wrong_rucio, wrong_cavern}) {
    INFO(secret);
    CHECK(all.find(secret) == std::string::npos);
  }
}
