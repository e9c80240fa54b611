// The report of a scenario with links (issue 16): a "Links" section with a row per link, and the
// charts `link-queue-over-time` and `link-throughput-over-time` drawing `timeline.links` as the
// JSON has it, whose time-averages are the links' mean active and waiting transfers and their
// throughput. The kinds table names replicas, rules and polls that watch them. A scenario without
// links gets none of it.
#include <catch2/catch.hpp>

#include <cmath>

#include "report_helpers.hpp"

using namespace stepq::test;
using nlohmann::ordered_json;

namespace {

const std::vector<std::string> kSrcnet300 = {"simulate", source("scenarios/srcnet-async.json"), "--sessions", "300",
                                             "-q"};

// The `field` of a chart's rows for one link (and one state, when given), in order.
ordered_json link_values(const ordered_json& spec, const std::string& link, const std::string& state = "",
                         const char* field = "value") {
  ordered_json v = ordered_json::array();
  for (const auto& row : spec["data"]["values"])
    if (row["link"] == link && (state.empty() || row["state"] == state)) v.push_back(row[field]);
  return v;
}

// The page's own text (the libraries in <head> and the embedded JSON are not looked at).
std::string page_text(const std::string& html) {
  const auto main = html.find("<main>");
  REQUIRE(main != std::string::npos);
  return html.substr(main, html.find("<footer>") - main);
}

// timeline.links holds bin averages rounded to 0.001 (reports/result_json.cpp): a time-average
// of them is off the exact integral by at most half of that.
constexpr double kRounding = 0.0005;

// What both runs check: the section, the table rows, and the charts' data against the JSON.
void links_as_json(const ordered_json& specs, const ordered_json& j, const std::string& text) {
  REQUIRE(j.contains("links"));
  REQUIRE(!j["links"].empty());
  CHECK(text.find("<h2>Links</h2>") != std::string::npos);
  REQUIRE(specs.contains("link-queue-over-time"));
  REQUIRE(specs.contains("link-throughput-over-time"));
  const double T = j["run"]["simulated_s"];
  const auto& tl = j["timeline"];
  for (const auto& [name, l] : j["links"].items()) {
    INFO("link " << name);
    CHECK(text.find("<tr><td>" + name + "</td>") != std::string::npos);
    CHECK(l["transfers"].get<std::uint64_t>() > 0);  // every link of the scenario carries data
    const auto& series = tl["links"][name];

    const auto active = link_values(specs["link-queue-over-time"], name, "active (moving)");
    const auto waiting = link_values(specs["link-queue-over-time"], name, "waiting for a slot");
    CHECK(active == series["active"]);
    CHECK(waiting == series["queued"]);
    CHECK(active.size() == tl["t_s"].size());
    const double active_mean = l["active"]["mean"];
    CHECK(active_mean > 0);
    CHECK(std::fabs(time_average(tl["t_s"], active, T) - active_mean) <= kRounding);
    CHECK(std::fabs(time_average(tl["t_s"], waiting, T) - l["queue"]["mean"].get<double>()) <= kRounding);
    for (const auto& cap : link_values(specs["link-queue-over-time"], name, "", "cap"))
      CHECK(cap == (l.contains("max_active") ? l["max_active"] : ordered_json(nullptr)));  // the dashed rule
    if (l.contains("max_active")) {
      // A bin's mean of transfers moving at once is at most the cap they never exceed.
      for (const auto& a : active) CHECK(a.get<double>() <= l["max_active"].get<double>());
    } else {
      for (const auto& w : waiting) CHECK(w.get<double>() == 0);  // no cap, no queue
    }

    const auto mbps = link_values(specs["link-throughput-over-time"], name);
    CHECK(mbps == series["MBps"]);
    const double throughput = l["throughput_MBps"];
    CHECK(throughput > 0);
    CHECK(std::fabs(time_average(tl["t_s"], mbps, T) - throughput) <= kRounding);
    for (const auto& b : link_values(specs["link-throughput-over-time"], name, "", "bandwidth"))
      CHECK(b == l["bandwidth_MBps"]);
  }
}

}  // namespace

TEST_CASE("report: srcnet-async's report has a Links section and link charts drawn from the JSON", "[report]") {
  TempDir d;
  auto args = kSrcnet300;
  for (const char* a : {"--report", "s.html", "--json", "s.json"}) args.push_back(a);
  auto r = run_stepq(args, d.path);
  REQUIRE(r.status == 0);
  same_result(d, "s.html", "s.json");
  const std::string html = slurp(d / "s.html");
  const auto j = ordered_json::parse(slurp(d / "s.json"));
  const std::string text = page_text(html);
  links_as_json(embedded(html, "specs"), j, text);
  // The routes the bytes take, and the lead's sentence on the busiest link.
  CHECK(text.find("<b>se-near → cavern</b> over wan-near, site-in") != std::string::npos);
  CHECK(text.find("The busiest link, <b>") != std::string::npos);
  REQUIRE(j.contains("leases"));  // srcnet-async's templates renew their staged replicas
  CHECK(text.find("Leases: " + std::to_string(j["leases"]["extensions"].get<std::uint64_t>()) + " renewals") !=
        std::string::npos);

  SECTION("the kinds table names the replicas, the rule and the poll that watches rules") {
    CHECK(text.find("transfer → cavern from replicas cavern 60% (local) | se-near or se-far 30% | se-far 10%") !=
          std::string::npos);
    CHECK(text.find("rule: submit, bytes move after lognormal(mean=120) s (asynchronous)") != std::string::npos);
    CHECK(text.find("polls every 30.0 s, watches rules") != std::string::npos);
  }
}

TEST_CASE("report: links under FTS caps chart their queues, and the lead names the wait", "[report]") {
  // Narrow links capped at one transfer each, so that transfers queue at 300 sessions.
  TempDir d;
  auto args = kSrcnet300;
  for (const char* a : {"--set", "/platform/links/0/bandwidth_MBps=30", "--set", "/platform/links/1/bandwidth_MBps=15",
                        "--set", "/platform/links/0/max_active=1", "--set", "/platform/links/1/max_active=1",
                        "--report", "b.html", "--json", "b.json"})
    args.push_back(a);
  auto r = run_stepq(args, d.path);
  REQUIRE(r.status == 0);
  same_result(d, "b.html", "b.json");
  const std::string html = slurp(d / "b.html");
  const auto j = ordered_json::parse(slurp(d / "b.json"));
  const std::string text = page_text(html);
  links_as_json(embedded(html, "specs"), j, text);
  for (const char* capped : {"wan-near", "wan-far"}) {
    INFO(capped);
    CHECK(j["links"][capped]["queue"]["mean"].get<double>() > 0);
    CHECK(j["links"][capped]["queue_wait_s"]["mean"].get<double>() > 0);
  }
  CHECK(text.find(" for an FTS slot on <b>") != std::string::npos);
}

TEST_CASE("report: a scenario without links gets no Links section and no link charts", "[report]") {
  TempDir d;
  auto r =
      run_stepq({"simulate", source("scenarios/mm4.json"), "--sessions", "300", "-q", "--report", "m.html"}, d.path);
  REQUIRE(r.status == 0);
  const std::string html = slurp(d / "m.html");
  const std::string text = page_text(html);
  CHECK(text.find("<h2>Start-up time</h2>") != std::string::npos);
  CHECK(text.find("Links") == std::string::npos);
  CHECK(text.find("link") == std::string::npos);
  CHECK(text.find("FTS") == std::string::npos);
  const auto specs = embedded(html, "specs");
  for (const auto& [id, spec] : specs.items()) CHECK(id.rfind("link-", 0) == std::string::npos);
  CHECK(!embedded(html, "result").contains("links"));
}
