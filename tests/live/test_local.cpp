// scenarios/local-demo.json for real, through the stepq binary: a SQLite queue, the engine's
// threads and the `local` platform (backends/local). LocalServices on its own, against a real
// HTTP server and real processes, is tested in tests/test_local.cpp.
#include <catch2/catch.hpp>

#include "live/processes.hpp"

using namespace stepq;
using namespace stepq::test;

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
