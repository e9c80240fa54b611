// `stepq calibrate` against a live run of a known scenario (tests/live/calibrate.json) on the
// emulated platform: what it fits must be what generated the run, and what it writes must
// simulate. Bad input exits 2 naming what is wrong.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;
using nlohmann::json;

namespace {

json read_json(const std::string& f) { return json::parse(Proc::slurp(f), nullptr, true, true); }

double mean_of(const json& d) {
  const std::string t = d["dist"];
  if (t == "exponential") return d["mean"];
  if (t == "lognormal")
    return std::exp(d["mu"].get<double>() + d["sigma"].get<double>() * d["sigma"].get<double>() / 2);
  if (t == "gamma") return d["shape"].get<double>() * d["scale"].get<double>();
  if (t == "weibull") return d["scale"].get<double>() * std::tgamma(1 + 1 / d["shape"].get<double>());
  double s = 0;
  for (double x : d["samples"]) s += x;
  return s / static_cast<double>(d["samples"].size());
}

}  // namespace

TEST_CASE("calibrate: a live run's service times, failures and arrival rate are recovered, and the result simulates") {
  TempDir dir;
  const std::string scenario = source("tests/live/calibrate.json");
  // 1 scenario second = 50 ms: the engine's own ~1 ms a step is 2% of a 1 s service time.
  const auto run = live_run_until_idle(dir.path, scenario, "0.05", 1200, "60");
  INFO(run.err);
  REQUIRE(run.status == 0);

  const Result cal = run_stepq({"calibrate", "--scenario", scenario, "--time-scale", "0.05", "-o", dir / "fitted.json",
                                "--arrival-trace", dir / "arrivals.txt"},
                               dir.path);
  INFO(cal.out << cal.err);
  REQUIRE(cal.status == 0);
  CHECK_THAT(cal.out, Catch::Contains("fetch") && Catch::Contains("lognormal"));
  std::istringstream lines(cal.out);
  for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 100);
  const json fitted = read_json(dir / "fitted.json");
  const json& fetch = fitted["kinds"]["fetch"];
  const json& build = fitted["kinds"]["build"];
  INFO(fetch.dump() << "\n" << build.dump());
  // 1200 draws of a lognormal with sigma 0.8: AIC tells it from every other family.
  CHECK(fetch["service_s"]["dist"] == "lognormal");
  CHECK(mean_of(fetch["service_s"]) == Approx(1.0).epsilon(0.05));
  CHECK(mean_of(build["service_s"]) == Approx(1.0).epsilon(0.05));
  // About 1330 attempts at 0.1: a standard error of 0.008.
  CHECK(build["retry"]["failure_probability"].get<double>() == Approx(0.1).margin(0.03));
  CHECK(build["retry"]["max_attempts"] == 4);  // kept from BASE
  // The arrivals replayed: 1200 times, in scenario seconds (about 400 s at 3/s).
  CHECK(fitted["arrivals"]["process"] == "trace");
  CHECK(fitted["arrivals"]["file"] == "arrivals.txt");
  std::istringstream trace(Proc::slurp(dir / "arrivals.txt"));
  std::vector<double> times;
  std::string header;
  std::getline(trace, header);
  for (double t; trace >> t;) times.push_back(t);
  REQUIRE(times.size() == 1200);
  CHECK(times.front() == 0);
  CHECK(times.back() == Approx(400).epsilon(0.1));
  CHECK(std::is_sorted(times.begin(), times.end()));
  CHECK_THAT(fetch["comment"].get<std::string>(), Catch::Contains("threads 8 from 1 processor"));
  CHECK_THAT(fetch["comment"].get<std::string>(), Catch::Contains("calibrated from") && Catch::Contains("by AIC"));
  CHECK_THAT(build["comment"].get<std::string>(), Catch::Contains("failure per attempt"));

  // The trace holds 1200 arrivals; the prediction check below wants a longer run, at the rate.
  const Result rate_only =
      run_stepq({"calibrate", "--scenario", scenario, "--time-scale", "0.05", "-o", dir / "fitted.json"}, dir.path);
  REQUIRE(rate_only.status == 0);
  CHECK(read_json(dir / "fitted.json")["arrivals"]["rate_per_s"].get<double>() == Approx(3).epsilon(0.1));
  const Result sim = run_stepq(
      {"simulate", dir / "fitted.json", "--sessions", "20000", "--quiet", "--json", dir / "sim.json"}, dir.path);
  INFO(sim.err);
  REQUIRE(sim.status == 0);

  // The prediction check: a second live run, with other draws (seed 4) and not used for fitting;
  // the fitted scenario's simulated start-up p50 and p95 must be within 10% of what it saw.
  const std::filesystem::path held = dir.path / "held-out";
  std::filesystem::create_directories(held);
  const auto run2 = live_run_until_idle(held, scenario, "0.05", 1200, "60", {"--set", "/seed=4"});
  INFO(run2.err);
  REQUIRE(run2.status == 0);
  SqlDb db((held / "stepq.db").string());
  std::vector<double> startup;
  for (const auto& r : db.rows("SELECT (started_at - created_at) / 0.05 FROM session WHERE started_at IS NOT NULL"))
    startup.push_back(std::stod(r[0]));
  REQUIRE(startup.size() >= 1100);
  std::sort(startup.begin(), startup.end());
  const auto at = [&](double p) {
    return startup[static_cast<std::size_t>(p * static_cast<double>(startup.size() - 1))];
  };
  const json predicted = read_json(dir / "sim.json")["startup_s"];
  INFO("held-out run p50 " << at(0.5) << " s, p95 " << at(0.95) << " s; fitted scenario simulated: p50 "
                           << predicted["p50"] << " s, p95 " << predicted["p95"] << " s");
  CHECK(predicted["p50"].get<double>() == Approx(at(0.5)).epsilon(0.10));
  CHECK(predicted["p95"].get<double>() == Approx(at(0.95)).epsilon(0.10));
}

TEST_CASE("calibrate: a link's bandwidth and latency come back from the transfers that moved alone") {
  TempDir dir;
  const std::string scenario = source("tests/live/calibrate_links.json");
  const auto ran = live_run_until_idle(
      dir.path, scenario, "0.01", 150, "20",
      {"--set", "/platform/links/0/bandwidth_MBps=100", "--set", "/platform/links/0/latency_s=0.05"});
  INFO(ran.err);
  REQUIRE(ran.status == 0);
  const Result cal =
      run_stepq({"calibrate", "--scenario", scenario, "--time-scale", "0.01", "-o", dir / "fitted.json"}, dir.path);
  INFO(cal.out << cal.err);
  REQUIRE(cal.status == 0);
  const json link = read_json(dir / "fitted.json")["platform"]["links"][0];
  INFO(link.dump());
  CHECK(link["bandwidth_MBps"].get<double>() == Approx(100).epsilon(0.05));
  CHECK(link["latency_s"].get<double>() == Approx(0.05).margin(0.02));
  CHECK_THAT(link["comment"].get<std::string>(), Catch::Contains("least squares") && Catch::Contains("(BASE 60)"));
  CHECK_THAT(cal.out, Catch::Contains("wan"));
}

TEST_CASE("calibrate: session run times, a cluster's Running after admission and rule delays are recovered") {
  TempDir dir;
  const std::string scenario = source("tests/live/calibrate_lifetimes.json");
  // 1 scenario second = 40 ms: a rule delay is measured to the rule step's finish, which commits a
  // millisecond or so after the rule was made; at this scale that is under 1% of its mean.
  const auto ran = live_run_until_idle(dir.path, scenario, "0.04", 400, "25");
  INFO(ran.err);
  REQUIRE(ran.status == 0);
  const Result cal =
      run_stepq({"calibrate", "--scenario", scenario, "--time-scale", "0.04", "-o", dir / "fitted.json"}, dir.path);
  INFO(cal.out << cal.err);
  REQUIRE(cal.status == 0);
  const json fitted = read_json(dir / "fitted.json");
  const json& session = fitted["templates"][0]["session"];
  INFO(session.dump().substr(0, 400));
  CHECK(mean_of(session["run_s"]) == Approx(std::exp(2.9 + 0.08)).epsilon(0.10));
  CHECK_THAT(session["comment"].get<std::string>(), Catch::Contains("run_s from"));
  // Ready 2-6 s after admission (mean 4), not after the poll step was activated.
  const json& running = fitted["kinds"]["running"];
  INFO(running["comment"]);
  CHECK(mean_of(running["poll"]["ready_after_s"]) == Approx(4).epsilon(0.10));
  const json& rule = fitted["kinds"]["rule"];
  INFO(rule["comment"]);
  CHECK(mean_of(rule["rule"]["delay_s"]) == Approx(3).epsilon(0.10));
  CHECK(run_stepq({"validate", dir / "fitted.json", "--quiet"}, dir.path).status == 0);
}

TEST_CASE("calibrate bad input: an empty history, a scenario without the database's kinds, an unreadable database") {
  TempDir dir;
  const std::string scenario = source("tests/live/calibrate.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  const Result empty = run_stepq({"calibrate", "--scenario", scenario, "-o", dir / "f.json"}, dir.path);
  CHECK(empty.status == 2);
  CHECK_THAT(empty.err, Catch::Contains("no executions of kind 'fetch'") && Catch::Contains("since"));
  CHECK_FALSE(std::ifstream(dir / "f.json").good());

  // A history of kinds `fetch` and `build`, against a scenario with other kinds.
  REQUIRE(run_stepq({"live", "submit", scenario, "--sessions", "3"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "run", scenario, "--time-scale", "0.001", "--until-idle"}, dir.path, 60).status == 0);
  const Result other =
      run_stepq({"calibrate", "--scenario", source("scenarios/mm4.json"), "-o", dir / "f.json"}, dir.path);
  CHECK(other.status == 2);
  CHECK_THAT(other.err, Catch::Contains("executions of kind") && Catch::Contains("which this scenario lacks"));
  // Three sessions are too few to fit anything.
  const Result short_run = run_stepq({"calibrate", "--scenario", scenario, "-o", dir / "f.json"}, dir.path);
  CHECK(short_run.status == 2);
  CHECK_THAT(short_run.err, Catch::Contains("too short a history"));

  std::ofstream(dir / "notes.txt") << "not a database\n";
  const Result unreadable =
      run_stepq({"calibrate", "--db", "sqlite:notes.txt", "--scenario", scenario, "-o", dir / "f.json"}, dir.path);
  CHECK(unreadable.status == 2);
  CHECK_THAT(unreadable.err, Catch::Contains("notes.txt"));
}
