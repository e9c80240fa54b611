// --trace DIR: one row per session whose start-up column gives the JSON's p95 (with warm-up
// removal, counting the sessions the JSON counts), and names that survive a CSV reader.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "report_helpers.hpp"

using namespace stepq::test;
using nlohmann::ordered_json;

namespace {
// A CSV line split at commas (the fields of these files hold no quotes: tested below).
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string c; std::getline(ss, c, ',');) out.push_back(c);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// mm4 with a burst of 500 at t = 0, a transient the default warm-up removes (about 2,000
// sessions), traced into d/t; its result JSON, after checking that something was dropped. 20,000
// sessions: the first half's claims outgrow memory's share of the warm-up log (sim/spill_log.hpp),
// so what removal takes back is read from its file.
ordered_json burst_run(const TempDir& d) {
  const auto r = run_stepq({"simulate", source("scenarios/mm4.json"), "--sessions", "20000", "--set",
                            "/arrivals/burst=500", "-q", "--trace", "t", "--json", "r.json"},
                           d.path);
  REQUIRE(r.status == 0);
  auto j = ordered_json::parse(slurp(d / "r.json"));
  REQUIRE(j["warmup"]["sessions_dropped"].get<std::uint64_t>() > 0);
  return j;
}
}  // namespace

TEST_CASE("csv: sessions.csv has a row per session, and after the warm-up its start-up gives the JSON p95",
          "[report][csv]") {
  TempDir d;
  const auto j = burst_run(d);
  const auto dropped = j["warmup"]["sessions_dropped"].get<std::uint64_t>();

  std::istringstream in(slurp(d / "t/sessions.csv"));
  std::string line;
  std::getline(in, line);
  const auto head = cells(line);
  REQUIRE(head == std::vector<std::string>{"session", "template", "arrival_s", "finished_s", "startup_s", "outcome",
                                           "prepare_cost_s"});
  std::vector<double> kept;
  std::size_t rows = 0;
  std::vector<bool> seen(j["sessions"]["arrived"].get<std::size_t>(), false);
  while (std::getline(in, line)) {
    const auto c = cells(line);
    REQUIRE(c.size() == head.size());
    const auto session = std::stoull(c[0]);
    REQUIRE(session < seen.size());
    CHECK_FALSE(seen[session]);
    seen[session] = true;
    ++rows;
    if (c[5] == "started" && session >= dropped) kept.push_back(std::stod(c[4]));
  }
  CHECK(rows == j["sessions"]["arrived"].get<std::size_t>());
  // The sessions the JSON's statistics count: its histogram holds exactly these.
  std::uint64_t binned = 0;
  for (const auto& n : j["startup_s"]["histogram"]["sessions"]) binned += n.get<std::uint64_t>();
  CHECK(binned == kept.size());
  // Nearest rank, as the histogram's quantile; it reports its bucket's middle (within 1/4096).
  std::sort(kept.begin(), kept.end());
  const double p95 = kept[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(kept.size()))) - 1];
  CHECK(j["startup_s"]["p95"].get<double>() == Approx(p95).epsilon(1.0 / 4096));
}

TEST_CASE("csv: after the warm-up, steps.csv's waits give the JSON's wait mean and quantiles", "[report][csv]") {
  // The waits warm-up removal takes back are remembered as floats (sim/world.cpp, kept()): the
  // quantiles must still be exactly those of the kept claims, the mean within 1e-6.
  TempDir d;
  const auto j = burst_run(d);
  const auto dropped = j["warmup"]["sessions_dropped"].get<std::uint64_t>();
  std::istringstream in(slurp(d / "t/steps.csv"));
  std::string line;
  std::getline(in, line);
  REQUIRE(cells(line).at(9) == "wait_s");
  std::vector<double> kept;
  double sum = 0;
  while (std::getline(in, line)) {
    const auto c = cells(line);
    if (std::stoull(c[0]) < dropped) continue;
    kept.push_back(std::stod(c[9]));
    sum += kept.back();
  }
  REQUIRE(kept.size() > 1000);
  std::sort(kept.begin(), kept.end());
  const auto& w = j["kinds"]["work"]["wait_s"];
  CHECK(w["mean"].get<double>() == Approx(sum / static_cast<double>(kept.size())).epsilon(1e-6));
  for (const auto& [key, q] : {std::pair{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}}) {
    const double exact = kept[static_cast<std::size_t>(std::ceil(q * static_cast<double>(kept.size()))) - 1];
    INFO(key);
    CHECK(w[key].get<double>() == Approx(exact).epsilon(1.0 / 4096));
  }
}

TEST_CASE("csv: names with commas and quotes are quoted, so a CSV reader gets them back", "[report][csv]") {
  TempDir d;
  {
    std::ofstream f(d / "s.json");
    f << R"({"sessions": 50, "arrivals": {"process": "poisson", "rate_per_s": 1},
             "kinds": {"stage, then \"copy\"": {"threads": 2, "service_s": 0.5}},
             "templates": [{"name": "t,1", "steps": [{"id": "a\"b", "kind": "stage, then \"copy\""}]}]})";
  }
  REQUIRE(run_stepq({"simulate", d / "s.json", "-q", "--trace", "t"}, d.path).status == 0);
  // Python's csv module reads what pandas and R read: RFC 4180 quoting.
  const std::string check =
      "import csv, sys\n"
      "s = list(csv.reader(open(sys.argv[1], newline='')))\n"
      "t = list(csv.reader(open(sys.argv[2], newline='')))\n"
      "assert len(s) == 51 and all(len(r) == 7 for r in s), 'sessions'\n"
      "assert all(r[1] == 't,1' for r in s[1:]), 'template'\n"
      "assert len(t) > 50 and all(len(r) == 12 for r in t), 'steps'\n"
      "assert all(r[2] == 'a\"b' and r[3] == 'stage, then \"copy\"' for r in t[1:]), 'kind'\n"
      "print('ok')\n";
  {
    std::ofstream f(d / "check.py");
    f << check;
  }
  auto r = run_program({"/usr/bin/python3", d / "check.py", d / "t/sessions.csv", d / "t/steps.csv"}, d.path);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "ok\n");
}
