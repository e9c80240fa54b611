// `stepq forecast` reads PostgreSQL's step table as it reads SQLite's (the same queries in
// backends/live/store_status.cpp): sessions mid-run, with steps READY, RUNNING and WAITING, are
// each forecast to start up no sooner than they already are old; recorded forecasts come back in
// `live status` beside what happened.
#include <catch2/catch.hpp>

#include <thread>

#include "live/processes.hpp"
#include "pg/pg_env.hpp"

using namespace stepq::test;

TEST_CASE("forecast on PostgreSQL: every session in start-up gets quantiles beyond its age") {
  TempDir dir;
  const std::string url = fresh_pg_url("forecast"), scenario = source("tests/live/forecast.json");
  REQUIRE(run_stepq({"live", "init", "--db", url}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", scenario, "--db", url, "--sessions", "12"}, dir.path).status == 0);
  // Real time (scale 1): two sessions' fetches are RUNNING for about a second each.
  Proc worker(stepq::test::stepq({"live", "run", scenario, "--db", url, "--until-idle"}), dir.path, "run");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const Result f = run_stepq(
      {"forecast", "--db", url, "--scenario", scenario, "-r", "20", "--json", dir / "f.json", "--record"}, dir.path);
  const Result run = worker.wait(120);
  INFO(run.err);
  CHECK(run.status == 0);
  INFO(f.out << f.err);
  REQUIRE(f.status == 0);
  const auto j = nlohmann::json::parse(Proc::slurp(dir / "f.json"));
  CHECK(j["in_startup"].get<int>() + j["past_startup"].get<int>() == 12);
  CHECK(j["in_startup"].get<int>() >= 9);
  CHECK_THAT(j["threads"]["from"].get<std::string>(), Catch::Contains("running now"));
  for (const auto& s : j["sessions"]) {
    INFO(s.dump());
    CHECK(s["startup_s"]["p50"].get<double>() >= s["age_s"].get<double>());
    CHECK(s["startup_s"]["p95"].get<double>() >= s["startup_s"]["p50"].get<double>());
  }
  // Twelve sessions queue ahead of a new one: it waits behind them (0.6 s of fetch each on two threads).
  CHECK(j["new_session"]["startup_s"]["p50"].get<double>() > 2 * j["new_session"]["queue_blind_s"].get<double>());

  // The recorded forecasts, beside what happened once every session ran.
  const Result st = run_stepq({"live", "status", "--db", url, "--json", "-"}, dir.path);
  REQUIRE(st.status == 0);
  const auto status = nlohmann::json::parse(st.out);
  INFO(status["forecasts"].dump());
  CHECK(status["forecasts"]["count"] == j["in_startup"]);
  // Twelve sessions of one snapshot share one queue's fate: no coverage figure here (the SQLite
  // test takes 18 snapshots for that), only that the comparison was read back.
  CHECK(status["forecasts"]["within_p95"].get<int>() <= j["in_startup"].get<int>());
  CHECK(status["forecasts"]["startup_vs_p50_median"].get<double>() > 0.3);
  CHECK(status["forecasts"]["startup_vs_p50_median"].get<double>() < 3);
}
