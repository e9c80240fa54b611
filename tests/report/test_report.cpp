// HTML reports: what the page embeds is the run's --json result; the data behind the charts
// (start-up bins, series over time) agree with the run's own totals.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/histogram.hpp"
#include "reports/log_bins.hpp"
#include "reports/timeline.hpp"
#include "report_helpers.hpp"

using namespace stepq::test;
using nlohmann::ordered_json;

namespace {

// Time-weighted mean of one series of a timeline (the last bin may be shorter).
double level_mean(const ordered_json& tl, const std::string& series, const char* level, double end_s) {
  return time_average(tl["t_s"], tl["series"][series][level], end_s);
}

}  // namespace

TEST_CASE("report: simulate --report embeds the --json result of the same run", "[report]") {
  TempDir d;
  auto r = run_stepq({"simulate", source("scenarios/skaha-basic.json"), "--sessions", "3000", "-q", "--report",
                      "r.html", "--json", "r.json"},
                     d.path);
  REQUIRE(r.status == 0);
  same_result(d, "r.html", "r.json");
  const auto page = embedded(slurp(d / "r.html"), "specs");
  for (const char* id :
       {"startup-histogram", "startup-cdf", "wait", "service", "utilization", "ready-over-time", "busy-over-time"})
    CHECK(page.contains(id));

  SECTION("and with replications, whose start-up bins add up over the runs") {
    auto rr = run_stepq({"simulate", source("scenarios/skaha-basic.json"), "--sessions", "2000", "-r", "2", "-j", "2",
                         "-q", "--report", "rr.html", "--json", "rr.json"},
                        d.path);
    REQUIRE(rr.status == 0);
    same_result(d, "rr.html", "rr.json");
    const auto j = ordered_json::parse(slurp(d / "rr.json"));
    std::uint64_t binned = 0;
    for (const auto& c : j["startup_s"]["histogram"]["sessions"]) binned += c.get<std::uint64_t>();
    const std::uint64_t counted =
        j["sessions"]["started"].get<std::uint64_t>() - j["warmup"]["sessions_dropped"].get<std::uint64_t>();
    // Warm-up drops sessions by arrival index, failed ones too, so `counted` is a lower bound.
    CHECK(binned >= counted);
    CHECK(binned <= j["sessions"]["started"].get<std::uint64_t>());
    CHECK(j["startup_s"]["ci95"].contains("p50"));
    CHECK(j["startup_s"]["ci95"].contains("p99"));
  }
}

TEST_CASE("report: tune --report embeds tune's JSON", "[report]") {
  TempDir d;
  auto r =
      run_stepq({"tune", source("scenarios/mm4.json"), "--target", "wait.p95=1", "--sessions", "3000", "--replications",
                 "2", "--verify-replications", "2", "--rates", "0.5,1", "-q", "--report", "t.html", "--json", "t.json"},
                d.path);
  REQUIRE(r.status == 0);
  same_result(d, "t.html", "t.json");
  const auto specs = embedded(slurp(d / "t.html"), "specs");
  CHECK(specs.contains("tune-path"));
  CHECK(specs.contains("tune-rates"));
}

TEST_CASE("report: live status --report embeds the status and charts the execution log", "[report]") {
  TempDir d;
  REQUIRE(run_stepq({"live", "init", "--db", "sqlite:l.db", "-q"}, d.path).status == 0);
  REQUIRE(run_stepq({"live", "submit", source("scenarios/mm4.json"), "--db", "sqlite:l.db", "--sessions", "200", "-q"},
                    d.path)
              .status == 0);
  REQUIRE(run_stepq({"live", "run", source("scenarios/mm4.json"), "--db", "sqlite:l.db", "--time-scale", "0.002",
                     "--until-idle", "-q"},
                    d.path)
              .status == 0);
  auto r = run_stepq({"live", "status", "--db", "sqlite:l.db", "--time-scale", "0.002", "-q", "--report", "l.html",
                      "--json", "l.json"},
                     d.path);
  REQUIRE(r.status == 0);
  same_result(d, "l.html", "l.json");
  const auto j = ordered_json::parse(slurp(d / "l.json"));
  const auto& tl = j["timeline"];
  REQUIRE(tl["series"].contains("work"));
  // Busy threads over time integrate to the service times the log recorded: sum = mean × count.
  const double end = tl["end_s"].get<double>();
  CHECK(end > tl["t_s"].back().get<double>());
  CHECK(end <= tl["t_s"].back().get<double>() + tl["bin_s"].get<double>());
  const double busy_area = level_mean(tl, "work", "busy", end) * end;
  const auto& k = j["kinds"]["work"];
  const double service_sum = k["service_s"]["mean"].get<double>() * k["service_s"]["count"].get<double>();
  // Values are rounded to 0.001 per bin: at most 0.0005 × the span of error.
  CHECK(std::fabs(busy_area - service_sum) <= 0.0005 * end + 1e-6 * service_sum);
  std::uint64_t binned = 0;
  for (const auto& c : j["startup_s"]["histogram"]["sessions"]) binned += c.get<std::uint64_t>();
  CHECK(binned == j["startup_s"]["count"].get<std::uint64_t>());
}

TEST_CASE("report: the simulated timeline obeys Little's law and the utilization", "[report]") {
  TempDir d;
  auto r = run_stepq(
      {"simulate", source("scenarios/mm4.json"), "--sessions", "20000", "--warmup", "none", "-q", "--json", "r.json"},
      d.path);
  REQUIRE(r.status == 0);
  const auto j = ordered_json::parse(slurp(d / "r.json"));
  const double T = j["run"]["simulated_s"];
  const auto& tl = j["timeline"];
  CHECK(tl["t_s"].size() >= stepq::Timeline::kMaxBins / 2);
  CHECK(tl["t_s"].size() < 2 * stepq::Timeline::kMaxBins);
  CHECK(tl["t_s"].back().get<double>() < T);
  const auto& k = j["kinds"]["work"];
  // The area under READY(t) is the sum of every claim's wait; under busy(t), of every service.
  const double ready = level_mean(tl, "work", "ready", T);
  const double waits = k["claims"].get<double>() * k["wait_s"]["mean"].get<double>() / T;
  const double busy = level_mean(tl, "work", "busy", T);
  const double util = k["utilization"].get<double>() * k["threads"].get<double>();
  // Rounding each bin to 0.001 bounds the error by 0.0005 (absolute) on these means.
  CHECK(std::fabs(ready - waits) <= 0.0005 + 1e-9 * waits);
  CHECK(std::fabs(busy - util) <= 0.0005 + 1e-9 * util);
  CHECK(ready > 1);  // M/M/4 at 0.8: about 2.4 waiting on average; a non-trivial check
}

TEST_CASE("timeline: bins hold time-averages, merge in pairs, and stay bounded", "[report]") {
  stepq::Timeline t(1, 1.0);
  // Level 1 on [0.5, 1.5), level 3 on [1.5, 2): bin 0 averages 0.5, bin 1 averages 2.
  t.change(0.5, 0, stepq::Timeline::ready, +1);
  t.change(1.5, 0, stepq::Timeline::ready, +2);
  t.change(2.0, 0, stepq::Timeline::ready, -3);
  t.finish(2.0);
  auto s = t.series();
  REQUIRE(s.t_s.size() == 2);
  CHECK(s.ready[0][0] == Approx(0.5));
  CHECK(s.ready[0][1] == Approx(2.0));
  CHECK(s.busy[0][0] == 0);

  // A run 100 times longer than guessed: bins double, the overall mean is kept.
  stepq::Timeline long_run(1, 1.0);
  for (int i = 0; i < 1000; ++i) {
    long_run.change(i * 1.0, 0, stepq::Timeline::busy, +1);
    long_run.change(i * 1.0 + 0.25, 0, stepq::Timeline::busy, -1);
  }
  long_run.finish(1000.0);
  s = long_run.series();
  CHECK(s.t_s.size() < 2 * stepq::Timeline::kMaxBins);
  CHECK(s.t_s.size() >= stepq::Timeline::kMaxBins / 2);
  double area = 0;
  for (std::size_t i = 0; i < s.t_s.size(); ++i)
    area += s.busy[0][i] * ((i + 1 < s.t_s.size() ? s.t_s[i + 1] : 1000.0) - s.t_s[i]);
  CHECK(area == Approx(250.0));
  CHECK(s.bin_s == Approx(s.t_s[1] - s.t_s[0]));
}

TEST_CASE("log bins: R20 edges, every value counted once, replications add bin by bin", "[report]") {
  stepq::Histogram a, b;
  for (double v : {0.0005, 1.0, 1.1, 1.13, 250.0}) a.add(v);
  for (double v : {2.0, 3000.0}) b.add(v);
  const auto ja = stepq::log_bins_json(a);
  const auto& e = ja["edges_s"];
  CHECK(e.front().get<double>() == 0.001);
  CHECK(e[1].get<double>() == 0.00112);
  std::uint64_t n = 0;
  for (const auto& c : ja["sessions"]) n += c.get<std::uint64_t>();
  CHECK(n == a.count());
  // 1.0 and 1.1 fall in [1, 1.12), 1.13 in [1.12, 1.25).
  for (std::size_t i = 0; i + 1 < e.size(); ++i) {
    if (e[i].get<double>() == 1.0) CHECK(ja["sessions"][i] == 2);
    if (e[i].get<double>() == 1.12) CHECK(ja["sessions"][i] == 1);
  }
  const auto both = stepq::add_log_bins(ja, stepq::log_bins_json(b));
  std::uint64_t m = 0;
  for (const auto& c : both["sessions"]) m += c.get<std::uint64_t>();
  CHECK(m == a.count() + b.count());
  CHECK(both["edges_s"].front() == e.front());
  CHECK(both["edges_s"].back().get<double>() > 3000.0);
  CHECK(both["edges_s"].size() == both["sessions"].size() + 1);
}

TEST_CASE("report: --report to a place that cannot be written fails at once, exit 2, naming it", "[report]") {
  TempDir d;
  const std::string bad = "/proc/no/such/r.html";
  auto r = run_stepq({"simulate", source("scenarios/mm4.json"), "--sessions", "100", "-q", "--report", bad}, d.path);
  CHECK(r.status == 2);
  CHECK(r.err.find("--report " + bad) != std::string::npos);
  r = run_stepq({"tune", source("scenarios/mm4.json"), "--target", "p95=5", "-q", "--report", bad}, d.path);
  CHECK(r.status == 2);
  CHECK(r.err.find("--report " + bad) != std::string::npos);
  REQUIRE(run_stepq({"live", "init", "--db", "sqlite:l.db", "-q"}, d.path).status == 0);
  r = run_stepq({"live", "status", "--db", "sqlite:l.db", "--report", bad}, d.path);
  CHECK(r.status == 2);
  CHECK(r.err.find("--report " + bad) != std::string::npos);
}
