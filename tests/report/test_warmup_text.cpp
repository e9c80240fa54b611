// Warm-up removal as users see it: the JSON and the table say, per replication, how many sessions
// were dropped and why (transient / cap / none), through the real binary.
#include <catch2/catch.hpp>

#include "report_helpers.hpp"

using namespace stepq::test;
using nlohmann::ordered_json;

namespace {

struct Run {
  Result r;
  ordered_json j;
};

Run simulate(const TempDir& d, std::vector<std::string> args) {
  args.insert(args.begin(), {"simulate", source("scenarios/mm4.json")});
  args.insert(args.end(), {"--json", "r.json"});
  Run run{run_stepq(args, d.path), {}};
  REQUIRE(run.r.status == 0);
  run.j = ordered_json::parse(slurp(d / "r.json"));
  return run;
}

}  // namespace

TEST_CASE("warm-up text: a burst at the start is dropped in every replication, with counts and reason", "[report]") {
  TempDir d;
  const auto run = simulate(d, {"--sessions", "40000", "--set", "/arrivals/burst=3000", "-r", "3"});
  const auto& w = run.j["warmup"];
  CHECK(w["method"] == "auto");
  REQUIRE(w["per_replication"].size() == 3);
  REQUIRE(w["reasons"].size() == 3);
  REQUIRE(w["contrasts"].size() == 3);
  std::uint64_t sum = 0;
  std::string list;
  for (int i = 0; i < 3; ++i) {
    CHECK(w["reasons"][i] == "transient");
    CHECK(w["contrasts"][i].get<double>() > 3);
    const auto n = w["per_replication"][i].get<std::uint64_t>();
    CHECK(n > 3000);
    sum += n;
  }
  CHECK(w["sessions_dropped"].get<std::uint64_t>() == sum);
  INFO(run.r.out);
  CHECK_THAT(run.r.out, Catch::Contains("warm-up (auto): ") &&
                            Catch::Contains("sessions dropped in 3 of 3 replications") &&
                            Catch::Contains("3 x the start is unlike the rest of the run") &&
                            Catch::Contains("per replication: "));
}

TEST_CASE("warm-up text: a stationary run keeps its start and says why", "[report]") {
  TempDir d;
  const auto run = simulate(d, {"--sessions", "20000"});
  const auto& w = run.j["warmup"];
  CHECK(w["method"] == "auto");
  CHECK(w["sessions_dropped"] == 0);
  CHECK(w["reason"] == "none");
  CHECK(w.contains("contrast"));
  INFO(run.r.out);
  CHECK_THAT(run.r.out, Catch::Contains("warm-up (auto): nothing dropped, the start is like the rest of the run"));
}

TEST_CASE("warm-up text: a transient longer than half the run is cut at half, and the table says run longer",
          "[report]") {
  // 3,000 sessions at once take ~15,000 sessions to clear; the run has 30,000.
  TempDir d;
  const auto run = simulate(d, {"--sessions", "30000", "--set", "/arrivals/burst=3000"});
  const auto& w = run.j["warmup"];
  CHECK(w["reason"] == "cap");
  CHECK(w["sessions_dropped"] == 15000);
  INFO(run.r.out);
  CHECK_THAT(run.r.out, Catch::Contains("15,000 sessions dropped, capped at half the run") &&
                            Catch::Contains("run more sessions"));
}

TEST_CASE("warm-up text: a run that is transient throughout keeps everything and says so", "[report]") {
  // The same burst in a run of 8,000 sessions: the queue never clears.
  TempDir d;
  const auto run = simulate(d, {"--sessions", "8000", "--set", "/arrivals/burst=3000"});
  CHECK(run.j["warmup"]["reason"] == "unsteady");
  CHECK(run.j["warmup"]["sessions_dropped"] == 0);
  INFO(run.r.out);
  CHECK_THAT(run.r.out, Catch::Contains("nothing dropped, no steady part found within the run: run more sessions"));
}

TEST_CASE("warm-up text: MSER-5 alone and a fixed count say what they did", "[report]") {
  TempDir d;
  const auto fixed = simulate(d, {"--sessions", "5000", "--warmup", "1000"});
  CHECK(fixed.j["warmup"]["reason"] == "fixed");
  CHECK(fixed.j["warmup"]["sessions_dropped"] == 1000);
  CHECK_THAT(fixed.r.out, Catch::Contains("warm-up (fixed): 1,000 sessions dropped"));
  const auto off = simulate(d, {"--sessions", "5000", "--warmup", "none"});
  CHECK(off.j["warmup"]["reason"] == "off");
  CHECK_FALSE(off.j["warmup"].contains("contrast"));
  const auto mser = simulate(d, {"--sessions", "40000", "--set", "/arrivals/burst=3000", "--warmup", "mser5"});
  CHECK(mser.j["warmup"]["reason"] == "fell");
  CHECK_THAT(mser.r.out, Catch::Contains("warm-up (mser5): ") && Catch::Contains("the MSER-5 statistic fell"));
}

TEST_CASE("warm-up text: a bad --warmup exits 2 and names the option", "[report]") {
  TempDir d;
  const auto r = run_stepq({"simulate", source("scenarios/mm4.json"), "--warmup", "mser6"}, d.path);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("--warmup") && Catch::Contains("auto, none, mser5 or a number"));
}
