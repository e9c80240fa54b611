// `stepq forecast` against a live run on the emulated platform (issue 17, item 2): forecasts made
// while the run goes on must cover what then happened. Bad input exits 2 naming what is wrong.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "live/db_check.hpp"
#include "live/processes.hpp"

using namespace stepq::test;
using nlohmann::json;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

TEST_CASE("forecast: sessions in flight finish start-up before their forecast p95 85-99% of the time, median on p50") {
  TempDir dir;
  const std::string scenario = source("tests/live/forecast.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  Proc worker(stepq::test::stepq({"live", "run", scenario, "--time-scale", "0.1", "--until-idle"}), dir.path, "run");
  Proc submit(stepq::test::stepq({"live", "submit", scenario, "--sessions", "420", "--rate", "14", "-q"}), dir.path,
              "submit");
  // Snapshots every 1.5 s while sessions arrive (30 s), each with forecast's default 40
  // replications (what users get); each forecast is the model's guess, made before the outcome
  // exists. Sessions of one snapshot share its queue's fate, so the many
  // snapshots, not the many sessions, are what make the coverage a steady figure.
  std::map<long long, std::vector<std::pair<double, double>>> predicted;  // id → (p50, p95) per snapshot
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < 18; ++k) {
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(3000 + 1500 * k));
    const std::string out = dir / ("f" + std::to_string(k) + ".json");
    const Result f = run_stepq(
        {"forecast", "--scenario", scenario, "--time-scale", "0.1", "-r", "40", "--json", out, "-q", "--record"},
        dir.path);
    INFO(f.err);
    REQUIRE(f.status == 0);
    const json j = json::parse(Proc::slurp(out));
    CHECK(j["new_session"]["startup_s"]["p50"].get<double>() > 0);
    // One worker process runs, with the scenario's pools: the forecast takes its threads.
    CHECK_THAT(j["threads"]["from"].get<std::string>(), Catch::Contains("1 processor(s) running now"));
    CHECK(j["threads"]["pools"]["fetch"] == 2);
    for (const auto& s : j["sessions"])
      if (s["startup_s"]["p50"].is_number())
        predicted[s["id"].get<long long>()].emplace_back(s["startup_s"]["p50"].get<double>(),
                                                         s["startup_s"]["p95"].get<double>());
  }
  REQUIRE(submit.wait(60).status == 0);
  const auto run = worker.wait(120);
  INFO(run.err);
  REQUIRE(run.status == 0);

  SqlDb db(dir / "stepq.db");
  std::map<long long, double> actual;  // scenario seconds from acceptance to start-up
  for (const auto& r : db.rows("SELECT id, (started_at - created_at) / 0.1 FROM session WHERE started_at IS NOT NULL"))
    actual[std::stoll(r[0])] = std::stod(r[1]);
  int n = 0, covered = 0;
  std::vector<double> act, p50;
  for (const auto& [id, fs] : predicted)
    for (const auto& [m, p] : fs) {
      if (!actual.count(id)) continue;  // it failed: a forecast of start-up says nothing of it
      ++n;
      covered += actual[id] <= p;
      act.push_back(actual[id]);
      p50.push_back(m);
    }
  const double coverage = static_cast<double>(covered) / n;
  INFO(n << " forecasts; " << covered << " started before their p95; median actual " << median(act) << " s, median p50 "
         << median(p50) << " s");
  REQUIRE(n >= 60);
  CHECK(coverage >= 0.85);
  CHECK(coverage <= 0.99);
  CHECK(median(act) == Approx(median(p50)).epsilon(0.10));

  // `live status` reads the recorded forecasts back and makes the same comparison.
  const Result st = run_stepq({"live", "status", "--time-scale", "0.1", "--json", "-"}, dir.path);
  REQUIRE(st.status == 0);
  const json f = json::parse(st.out)["forecasts"];
  INFO(f.dump());
  CHECK(f["count"] == n);
  CHECK(f["within_p95"] == covered);
  std::vector<double> ratio;
  for (std::size_t i = 0; i < act.size(); ++i) ratio.push_back(act[i] / p50[i]);
  CHECK(f["startup_vs_p50_median"].get<double>() == Approx(median(ratio)).epsilon(1e-3));
  CHECK(f["startup_vs_queue_blind_median"].get<double>() > 1);  // the queue-blind cost ignores every wait
  const Result text = run_stepq({"live", "status", "--time-scale", "0.1"}, dir.path);
  CHECK_THAT(text.out, Catch::Contains("started by the forecast p95"));

  // The same run calibrated: the poll's ready time, uniform on 0-4 s (mean 2), is seen only
  // between looks a second apart; Turnbull's estimate must recover its mean within 10%.
  const Result cal =
      run_stepq({"calibrate", "--scenario", scenario, "--time-scale", "0.1", "-o", dir / "fitted.json"}, dir.path);
  INFO(cal.out << cal.err);
  REQUIRE(cal.status == 0);
  const json ready = json::parse(Proc::slurp(dir / "fitted.json"), nullptr, true, true)["kinds"]["ready"];
  INFO(ready["comment"]);
  REQUIRE(ready["poll"]["ready_after_s"]["dist"] == "empirical");
  double sum = 0;
  for (double x : ready["poll"]["ready_after_s"]["samples"]) sum += x;
  CHECK(sum / static_cast<double>(ready["poll"]["ready_after_s"]["samples"].size()) == Approx(2.0).epsilon(0.10));
  CHECK_THAT(ready["comment"].get<std::string>(), Catch::Contains("Turnbull"));
}

TEST_CASE("forecast: the threads line names every pool, wrapped within 100 columns") {
  // skaha-basic's seven pools take 130 characters: the line was cut at 60, leaving pools out.
  TempDir dir;
  const std::string scenario = source("scenarios/skaha-basic.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", scenario, "--sessions", "3"}, dir.path).status == 0);
  const Result r = run_stepq({"forecast", "--scenario", scenario, "-r", "2"}, dir.path);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string threads = r.out.substr(r.out.find("threads as in"), r.out.find("a new '") - r.out.find("threads"));
  for (const char* pool : {"image.pull 4,", "storage.allocate 2,", "data.stage 6,", "compute.launch 2,",
                           "compute.poll 2,", "compute.delete 2,", "storage.cleanup 1\n"})
    CHECK_THAT(threads, Catch::Contains(pool));
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 100);
}

TEST_CASE("forecast: bad input exits 2 and names it") {
  TempDir dir;
  const std::string scenario = source("tests/live/forecast.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  // Queued sessions nobody runs: what a forecast of another scenario cannot account for.
  REQUIRE(run_stepq({"live", "submit", scenario, "--sessions", "5"}, dir.path).status == 0);
  const Result ok = run_stepq({"forecast", "--scenario", scenario, "-r", "4"}, dir.path);
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  CHECK_THAT(ok.out, Catch::Contains("5 sessions in start-up"));
  CHECK_THAT(ok.out, Catch::Contains("threads as in"));  // no processor runs: the scenario's pools
  std::istringstream lines(ok.out);
  for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 100);

  const Result other = run_stepq({"forecast", "--scenario", source("scenarios/mm4.json")}, dir.path);
  CHECK(other.status == 2);
  CHECK_THAT(other.err, Catch::Contains("template 't'") && Catch::Contains("mm4.json"));

  // Same template, same steps, but another kind at step 1: the database's queue is not this model's.
  std::string text = Proc::slurp(scenario);
  const std::string build_kind = "\"kind\": \"build\"";
  const auto at = text.find(build_kind);
  REQUIRE(at != std::string::npos);
  text.replace(at, build_kind.size(), "\"kind\": \"fetch\"");
  std::ofstream(dir / "other_kinds.json") << text;
  const Result kinds = run_stepq({"forecast", "--scenario", dir / "other_kinds.json"}, dir.path);
  INFO(kinds.err);
  CHECK(kinds.status == 2);
  CHECK_THAT(kinds.err, Catch::Contains("step 1 of template 't'") && Catch::Contains("'build' in the database"));

  const Result tmpl = run_stepq({"forecast", "--scenario", scenario, "--template", "nope"}, dir.path);
  CHECK(tmpl.status == 2);
  CHECK_THAT(tmpl.err, Catch::Contains("--template nope") && Catch::Contains("it has t"));

  std::ofstream(dir / "notes.txt") << "not a database\n";
  const Result notdb = run_stepq({"forecast", "--db", "sqlite:notes.txt", "--scenario", scenario}, dir.path);
  CHECK(notdb.status == 2);
  CHECK_THAT(notdb.err, Catch::Contains("notes.txt"));

  // Its templates differ too, but what a forecast cannot restore is refused first.
  const Result leased = run_stepq({"forecast", "--scenario", source("scenarios/srcnet-async.json")}, dir.path);
  INFO(leased.err);
  CHECK(leased.status == 2);
  CHECK_THAT(leased.err, Catch::Contains("/lease") && Catch::Contains("srcnet-async.json"));
}

TEST_CASE("forecast: on a cluster mid-run, sessions Pending and Running are restored and forecast") {
  TempDir dir;
  const std::string scenario = source("tests/live/forecast_cluster.json");
  REQUIRE(run_stepq({"live", "init"}, dir.path).status == 0);
  Proc worker(stepq::test::stepq({"live", "run", scenario, "--time-scale", "0.03", "--until-idle"}), dir.path, "run");
  REQUIRE(run_stepq({"live", "submit", scenario, "--sessions", "60", "--rate", "30"}, dir.path).status == 0);
  // Submitted in 2 s at twice the cluster's pace: the six slots are held and a queue waits.
  SqlDb db(dir / "stepq.db");
  REQUIRE(within(5, [&] {
    return db.count("SELECT count(*) FROM session WHERE compute = 'placed'") == 6 &&
           db.count("SELECT count(*) FROM session WHERE compute = 'queued'") >= 5;
  }));
  const Result f = run_stepq(
      {"forecast", "--scenario", scenario, "--time-scale", "0.03", "-r", "40", "--json", dir / "f.json", "--record"},
      dir.path);
  INFO(f.out << f.err);
  REQUIRE(f.status == 0);
  const auto run = worker.wait(120);
  REQUIRE(run.status == 0);
  const json j = json::parse(Proc::slurp(dir / "f.json"));
  CHECK(j["in_startup"].get<int>() >= 5);
  for (const auto& s : j["sessions"]) {
    INFO(s.dump());
    CHECK(s["startup_s"]["p50"].get<double>() >= s["age_s"].get<double>());
  }
  // The last in the admission queue waits for the slots before it: its forecast is the latest.
  double latest = 0;
  for (const auto& s : j["sessions"]) latest = std::max(latest, s["startup_s"]["p50"].get<double>());
  CHECK(latest > 10);  // at least one full run (8 s) and its Running (1-3 s) ahead of it
  const Result st = run_stepq({"live", "status", "--time-scale", "0.03", "--json", "-"}, dir.path);
  REQUIRE(st.status == 0);
  const json fc = json::parse(st.out)["forecasts"];
  INFO(fc.dump());
  CHECK(fc["count"] == j["in_startup"]);
  CHECK(fc["startup_vs_p50_median"].get<double>() == Approx(1).epsilon(0.5));
}
