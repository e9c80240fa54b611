// The report of a scenario with clusters (issue 14): it embeds the --json result, declares the
// start-up split and the cluster charts, and what those charts draw is what the JSON says (the
// split's seconds, the series over time, whose time-averages are the clusters' utilisation and
// queue). A scenario without clusters gets none of the cluster section.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "report_helpers.hpp"

using namespace stepq::test;
using nlohmann::ordered_json;

namespace {

// The data rows a chart draws: a faceted or single-view spec's own, or its first layer's.
const ordered_json& chart_rows(const ordered_json& spec) {
  return spec.contains("data") ? spec["data"]["values"] : spec["layer"][0]["data"]["values"];
}

// The `field` of the rows of one cluster, in order.
ordered_json cluster_values(const ordered_json& spec, const std::string& cluster, const char* field = "value") {
  ordered_json v = ordered_json::array();
  for (const auto& row : chart_rows(spec))
    if (row["cluster"] == cluster) v.push_back(row[field]);
  return v;
}

}  // namespace

TEST_CASE("report: a cluster scenario's report charts the start-up split and the clusters as the JSON has them",
          "[report]") {
  TempDir d;
  auto r = run_stepq({"simulate", source("tests/report/clusters.json"), "-q", "--report", "c.html", "--json", "c.json"},
                     d.path);
  REQUIRE(r.status == 0);
  same_result(d, "c.html", "c.json");
  const std::string html = slurp(d / "c.html");
  const auto specs = embedded(html, "specs");
  const auto j = ordered_json::parse(slurp(d / "c.json"));
  for (const char* id : {"startup-split", "cluster-cores-over-time", "cluster-memory-over-time",
                         "cluster-queue-over-time", "cluster-refused-over-time"})
    CHECK(specs.contains(id));
  CHECK(html.find("<h2>Clusters</h2>") != std::string::npos);
  REQUIRE(j["clusters"].contains("k"));
  REQUIRE(j["clusters"].contains("big"));

  SECTION("the split bar holds startup_s.split, part by part, and its parts add up to the mean") {
    const auto& split = j["startup_s"]["split"];
    const auto& rows = chart_rows(specs["startup-split"]);
    double sum = 0;
    for (const auto& [part, seconds] : split.items()) {
      const auto row = std::find_if(rows.begin(), rows.end(), [&](const ordered_json& x) { return x["part"] == part; });
      INFO(part);
      if (seconds.get<double>() > 0) {
        REQUIRE(row != rows.end());
        CHECK((*row)["seconds"] == seconds);  // the very number, not a rounded one
        sum += seconds.get<double>();
      } else {
        CHECK(row == rows.end());  // a part of 0 s is left out of the bar
      }
    }
    CHECK(split["pending"].get<double>() > 0);  // the scenario is meant to wait for capacity
    CHECK(sum == Approx(j["startup_s"]["mean"].get<double>()).epsilon(1e-6));
    for (const auto& row : rows) CHECK(row["share"].get<double>() == Approx(row["seconds"].get<double>() / sum));
  }

  SECTION("cores and memory in use over time are the timeline's, and average to the utilisation") {
    const double T = j["run"]["simulated_s"];
    const auto& tl = j["timeline"];
    for (const auto& [name, c] : j["clusters"].items()) {
      INFO("cluster " << name);
      for (const auto& [level, share, chart] : {std::tuple{"cores", "cores", "cluster-cores-over-time"},
                                                std::tuple{"memory_GB", "memory", "cluster-memory-over-time"}}) {
        INFO(level);
        const auto drawn = cluster_values(specs[chart], name);
        CHECK(drawn == tl["clusters"][name][level]);
        const double total = c[level].get<double>();
        for (const auto& t : cluster_values(specs[chart], name, "total")) CHECK(t.get<double>() == total);  // the rule
        const double in_use = c["utilization"][share].get<double>() * total;
        CHECK(in_use > 0);
        CHECK(std::fabs(time_average(tl["t_s"], drawn, T) - in_use) <= 0.01 * in_use);
      }
    }
  }

  SECTION("the admission queue over time averages to clusters.C.queue.mean") {
    const double T = j["run"]["simulated_s"];
    for (const auto& [name, c] : j["clusters"].items()) {
      INFO("cluster " << name);
      const auto drawn = cluster_values(specs["cluster-queue-over-time"], name);
      CHECK(drawn == j["timeline"]["clusters"][name]["queued"]);
      const double mean = c["queue"]["mean"];
      CHECK(mean > 0.1);
      CHECK(std::fabs(time_average(j["timeline"]["t_s"], drawn, T) - mean) <= 0.01 * mean);
    }
  }

  SECTION("refused launches are charted cumulative, for the cluster that refused some only") {
    const auto& spec = specs["cluster-refused-over-time"];
    CHECK(cluster_values(spec, "big").empty());  // no per-user limit: nothing refused, no line
    const auto drawn = cluster_values(spec, "k");
    CHECK(drawn == j["timeline"]["clusters"]["k"]["refused"]);
    const double refused = j["clusters"]["k"]["refused"];
    REQUIRE(refused > 0);
    for (std::size_t i = 1; i < drawn.size(); ++i) CHECK(drawn[i].get<double>() >= drawn[i - 1].get<double>());
    // The last point is the running count averaged over the last bin: at most the total, and near it.
    CHECK(drawn.back().get<double>() <= refused);
    CHECK(drawn.back().get<double>() >= 0.95 * refused);
    CHECK(spec["title"]["text"].get<std::string>().find("cumulative") != std::string::npos);
  }
}

TEST_CASE("report: a cluster scenario with replications shows Pending's interval and says whose series are drawn",
          "[report]") {
  TempDir d;
  auto r = run_stepq({"simulate", source("tests/report/clusters.json"), "--sessions", "6000", "-r", "2", "-j", "2",
                      "-q", "--report", "c.html", "--json", "c.json"},
                     d.path);
  REQUIRE(r.status == 0);
  same_result(d, "c.html", "c.json");
  const std::string html = slurp(d / "c.html");
  const auto j = ordered_json::parse(slurp(d / "c.json"));
  REQUIRE(j["clusters"]["k"]["pending_s"].contains("ci95"));
  const auto& ci = j["clusters"]["k"]["pending_s"]["ci95"]["mean"];
  CHECK(ci[0].get<double>() <= j["clusters"]["k"]["pending_s"]["mean"].get<double>());
  CHECK(html.find("Over time: replication 0 of 2") != std::string::npos);
  CHECK(embedded(html, "specs").contains("cluster-cores-over-time"));
}

TEST_CASE("report: a scenario without clusters gets no cluster section and no cluster charts", "[report]") {
  TempDir d;
  auto r =
      run_stepq({"simulate", source("scenarios/mm4.json"), "--sessions", "3000", "-q", "--report", "m.html"}, d.path);
  REQUIRE(r.status == 0);
  const std::string html = slurp(d / "m.html");
  const auto specs = embedded(html, "specs");
  // The page's own text (the libraries in <head> and the embedded JSON are not looked at).
  const auto main = html.find("<main>");
  REQUIRE(main != std::string::npos);
  const std::string text = html.substr(main, html.find("<footer>") - main);
  CHECK(text.find("<h2>Start-up time</h2>") != std::string::npos);
  CHECK(text.find("Clusters") == std::string::npos);
  CHECK(text.find("Pending") == std::string::npos);
  for (const auto& [id, spec] : specs.items()) CHECK(id.rfind("cluster-", 0) == std::string::npos);
  // Start-up still splits into queue waits and service; Pending took no time and is not drawn.
  REQUIRE(specs.contains("startup-split"));
  const auto& rows = chart_rows(specs["startup-split"]);
  CHECK(std::none_of(rows.begin(), rows.end(), [](const ordered_json& x) { return x["part"] == "pending"; }));
  CHECK(std::any_of(rows.begin(), rows.end(), [](const ordered_json& x) { return x["part"] == "queue_wait"; }));
}
