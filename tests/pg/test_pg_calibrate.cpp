// `stepq calibrate` reads PostgreSQL's execution log as it reads SQLite's (the same queries in
// backends/live/store_status.cpp): a short live run, calibrated, gives fits and a scenario that loads.
#include <catch2/catch.hpp>

#include "live/processes.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

TEST_CASE("calibrate on PostgreSQL: a live run's kinds are fitted and the scenario validates") {
  TempDir dir;
  const std::string url = fresh_pg_url("calibrate"), scenario = source("tests/live/calibrate.json");
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  // Paced, as sessions arrive: an unpaced submission is one burst (each batch of sessions shares
  // its transaction's time), from which no arrival rate can be fitted.
  REQUIRE(run_stepq({"live", "submit", scenario, "--db", url, "--sessions", "60", "--rate", "200"}, dir.path).status ==
          0);
  const Result run = run_stepq({"live", "run", scenario, "--db", url, "--time-scale", "0.002", "--until-idle", "--set",
                                "/kinds/fetch/threads=5"},
                               dir.path, 120);
  INFO(run.err);
  REQUIRE(run.status == 0);
  const Result cal = run_stepq(
      {"calibrate", "--db", url, "--scenario", scenario, "--time-scale", "0.002", "-o", dir / "fitted.json"}, dir.path);
  INFO(cal.out << cal.err);
  REQUIRE(cal.status == 0);
  const auto fitted = nlohmann::json::parse(Proc::slurp(dir / "fitted.json"));
  CHECK_THAT(fitted["kinds"]["fetch"]["comment"].get<std::string>(), Catch::Contains("calibrated from 60 executions"));
  CHECK_THAT(fitted["kinds"]["build"]["comment"].get<std::string>(), Catch::Contains("failure per attempt"));
  CHECK_THAT(fitted["arrivals"]["comment"].get<std::string>(), Catch::Contains("calibrated from 60 arrivals"));
  // The engine ran fetch on 5 threads, not BASE's 8: the processors say so.
  CHECK(fitted["kinds"]["fetch"]["threads"] == 5);
  CHECK_THAT(fitted["kinds"]["fetch"]["comment"].get<std::string>(), Catch::Contains("(BASE had 8)"));
  CHECK(fitted["kinds"]["build"]["threads"] == 8);
  CHECK(run_stepq({"validate", dir / "fitted.json", "--quiet"}, dir.path).status == 0);
}
