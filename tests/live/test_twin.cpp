// The twin test: one scenario run by the simulator and by the live engine (emulated platform,
// real SQLite file, real threads, scaled wall-clock time) must predict the same start-up and
// queue waits. Both modes draw every service time, failure and poll-ready time from the same
// per-session streams and the same arrival stream, so they see the same workload; what differs
// is the engine: real claims, wake-ups, promotions, sleeps.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "live/processes.hpp"

using namespace stepq::test;
using nlohmann::json;

namespace {

json read_json(const std::string& f) {
  std::ifstream in(f);
  return json::parse(in);
}

// |live − sim| ≤ rel × sim
void agree(const char* what, double sim, double live, double rel) {
  INFO(what << ": simulated " << sim << ", live " << live << " (" << 100 * (live - sim) / sim << "%)");
  CHECK(std::abs(live - sim) <= rel * sim);
  std::printf("  %-22s simulated %8.3f  live %8.3f  (%+.1f%%)\n", what, sim, live, 100 * (live - sim) / sim);
}

}  // namespace

TEST_CASE("twin: simulate and live run (emulated, SQLite) agree on start-up and waits") {
  TempDir dir;
  const std::string scenario = source("tests/live/twin.json");
  // 1 scenario second = 20 ms: 400 sessions arriving at 0.1/s take 80 s of wall time.
  const double scale = 0.02;
  const int sessions = 400;
  const double rate = 0.1 / scale;

  const auto sim = run_stepq({"simulate", scenario, "--sessions", std::to_string(sessions), "--warmup", "none",
                              "--json", dir / "sim.json", "--quiet"},
                             dir.path);
  REQUIRE(sim.status == 0);

  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  char scale_s[32], rate_s[32];
  std::snprintf(scale_s, sizeof scale_s, "%g", scale);
  std::snprintf(rate_s, sizeof rate_s, "%g", rate);
  Proc worker(stepq::test::stepq({"live", "run", scenario, "--time-scale", scale_s, "--until-idle"}), dir.path, "run");
  const auto submit = run_stepq({"live", "submit", scenario, "--sessions", std::to_string(sessions), "--rate", rate_s}, dir.path);
  REQUIRE(submit.status == 0);
  const auto run = worker.wait(300);
  INFO(run.err);
  REQUIRE(run.status == 0);
  REQUIRE(run_stepq({"live", "status", "--time-scale", scale_s, "--json", dir / "live.json", "--quiet"}, dir.path).status == 0);

  const json s = read_json(dir / "sim.json");
  const json l = read_json(dir / "live.json");
  // Same workload: the same sessions complete or fail in both modes.
  REQUIRE(l["sessions"]["ACTIVE"] == 0);
  REQUIRE(l["sessions"]["COMPLETED"] == s["sessions"]["started"]);
  REQUIRE(l["sessions"]["FAILED"] == s["sessions"]["failed"]);

  agree("start-up p50", s["startup_s"]["p50"], l["startup_s"]["p50"], 0.10);
  agree("start-up p95", s["startup_s"]["p95"], l["startup_s"]["p95"], 0.10);
  for (const auto& [kind, k] : s["kinds"].items()) {
    const std::string what = "mean wait of " + kind;
    agree(what.c_str(), k["wait_s"]["mean"], l["kinds"][kind]["wait_s"]["mean"], 0.15);
  }
}
