// `stepq validate` through the real binary (issue 16): the platform's links and routes, a data
// kind's replicas and rule, a poll kind that watches rules, an item's bytes and count with its
// copies named once, and the staging cost beside the broker's figure, worked out here from the
// scenario's numbers (service + by each replica set's chance, rule delay + bytes over the fastest
// route alone).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "cli/scenario_file.hpp"
#include "report_helpers.hpp"

using namespace stepq;
using namespace stepq::test;

namespace {

// Wrapped lines joined: a line break and the indent after it become one space, so a clause reads
// the same wherever the 100-column wrap broke it.
std::string unwrapped(const std::string& text) { return std::regex_replace(text, std::regex("\n +"), " "); }

// The number printed after `label` on the first line holding `line_start` (NaN if none).
double number_after(const std::string& text, const std::string& line_start, const std::string& label) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(line_start, 0) != 0) continue;
    const auto at = line.find(label);
    if (at == std::string::npos) continue;
    return std::stod(line.substr(at + label.size()));
  }
  return std::nan("");
}

// The staging model's cost of one data step, from the scenario's numbers.
double staging_cost(const Scenario& sc, const PlanStep& ps) {
  const KindSpec& k = sc.kinds[ps.kind];
  const auto& choices = ps.replicas.empty() ? k.transfer->replicas : ps.replicas;
  double total = 0, moved = 0;
  for (const auto& c : choices) {
    total += c.weight;
    if (std::find(c.hosts.begin(), c.hosts.end(), k.transfer->to) != c.hosts.end()) continue;  // local
    double fastest = INFINITY;
    for (const auto& h : c.hosts) {
      const RouteSpec& r = sc.platform.routes[sc.platform.route_between(h, k.transfer->to)];
      double latency = 0, bottleneck = INFINITY;
      for (int l : r.links) {
        latency += sc.platform.links[l].latency_s;
        bottleneck = std::min(bottleneck, sc.platform.links[l].bandwidth_Bps);
      }
      fastest = std::min(fastest, latency + ps.bytes / bottleneck);
    }
    moved += c.weight * (k.rule->delay_s.mean() + fastest);
  }
  return k.service_s.mean() + moved / total;
}

// %.4g's rounding: at most half a unit in the 4th significant digit.
bool printed_as(double printed, double exact) { return std::fabs(printed - exact) <= 5e-4 * std::fabs(exact); }

}  // namespace

TEST_CASE("validate: srcnet-async shows its links, routes, replicas, rule, counts and staging costs", "[report]") {
  TempDir d;
  const std::string file = source("scenarios/srcnet-async.json");
  auto r = run_stepq({"validate", file}, d.path);
  REQUIRE(r.status == 0);
  const Scenario sc = load_scenario_file(file);
  const std::string out = r.out, flat = unwrapped(r.out);
  INFO(out);

  SECTION("every link with its bandwidth, latency and cap, every route with its summed latency and bottleneck") {
    REQUIRE(!sc.platform.links.empty());
    for (const auto& l : sc.platform.links) {
      INFO("link " << l.name);
      const std::string start = "    " + l.name + ": ";
      CHECK(printed_as(number_after(out, start, ": "), l.bandwidth_Bps / 1e6));
      CHECK(printed_as(number_after(out, start, "latency "), l.latency_s));
      if (l.max_active > 0) CHECK(number_after(out, start, "max_active ") == l.max_active);
      else CHECK(std::isnan(number_after(out, start, "max_active")));
    }
    int multi_hop = 0;
    for (const auto& rt : sc.platform.routes) {
      std::string hops;
      double latency = 0, bottleneck = INFINITY;
      for (int l : rt.links) {
        hops += (hops.empty() ? "" : ", ") + sc.platform.links[l].name;
        latency += sc.platform.links[l].latency_s;
        bottleneck = std::min(bottleneck, sc.platform.links[l].bandwidth_Bps);
      }
      multi_hop += rt.links.size() > 1;
      const std::string start = "    " + rt.from + " -> " + rt.to + ": " + hops + ";";
      INFO("route " << start);
      CHECK(printed_as(number_after(out, start, "latency "), latency));
      CHECK(printed_as(number_after(out, start, "bottleneck "), bottleneck / 1e6));
    }
    CHECK(multi_hop > 0);  // the sums are over more than one hop somewhere
  }

  SECTION("the data kind's replicas and rule, and the poll kind that watches rules") {
    CHECK(flat.find("data.stage (data): service lognormal(mean=0.5); transfer -> cavern; "
                    "replicas: cavern 60% (local) | se-near or se-far 30% | se-far 10%; "
                    "rule: submit, bytes move after lognormal(mean=120) (asynchronous)") != std::string::npos);
    CHECK(flat.find("data.ready (poll): service lognormal(mean=0.1); poll every 30 s, watches rules") !=
          std::string::npos);
    CHECK(flat.find("data.ready (poll): service lognormal(mean=0.1); poll every 30 s, ready after") ==
          std::string::npos);
  }

  SECTION("an item with a count is one line naming its copies, with its bytes and count, and waited for as one") {
    CHECK(out.find("    ms#1..ms#4  [data.stage]") != std::string::npos);
    for (const char* copy : {"    ms#1  ", "    ms#2  ", "    ms#4  "}) CHECK(out.find(copy) == std::string::npos);
    CHECK(flat.find("bytes uniform(1e+09..3e+09) (mean 2 GB)  count empirical(n=4, mean=3) (up to 4)  after scratch") !=
          std::string::npos);
    CHECK(out.find("    staged  [data.ready]  prepare cost 0 s  after ms#1..ms#4 cal\n") != std::string::npos);
    CHECK(flat.find("data  [data.stage]  prepare cost 30 s, staging") != std::string::npos);
    CHECK(flat.find("WriteLocal  bytes 1 GB  after home") != std::string::npos);
  }

  SECTION("a template's lease: its renewal step's cost and period, and the replicas' lifetime") {
    for (const auto& t : sc.templates) {
      INFO("template " << t.name);
      REQUIRE(t.lease);
      const PlanStep& ps = t.steps[t.lease_step];
      const std::string line = "    " + ps.id + "  [" + sc.kinds[ps.kind].name + "]  cost ";
      CHECK(printed_as(number_after(out, line, "cost "), sc.kinds[ps.kind].service_s.mean()));
      CHECK(number_after(out, line, "every ") == t.lease->every_s);
      CHECK(number_after(out, line, "replicas live ") == t.lease->lifetime_s);
      // The lease step is not a release step: the count is of the release plan's.
      const auto at = out.find("\n  template '" + t.name + "'");
      REQUIRE(at != std::string::npos);
      const std::string head = out.substr(at + 1, out.find('\n', at + 1) - at - 1);
      const std::string counts = "): " + std::to_string(t.startup_steps) + " start-up steps, " +
                                 std::to_string(t.release_plan.topo.size()) + " release";
      CHECK(head.substr(head.size() - std::min(head.size(), counts.size())) == counts);
    }
  }

  SECTION("the staging cost of each data step and the template's critical path with it") {
    REQUIRE(sc.templates[0].name == "notebook");  // printed first
    const TemplateSpec& nb = sc.templates[0];
    auto step = [&](const std::string& id) -> const PlanStep& {
      return *std::find_if(nb.steps.begin(), nb.steps.end(), [&](const PlanStep& ps) { return ps.id == id; });
    };
    const PlanStep& data = step("data");
    const double staged = staging_cost(sc, data);
    CHECK(staged > *sc.kinds[data.kind].prepare_cost_s);  // else the broker's figure would be the larger
    CHECK(printed_as(number_after(out, "    data  [data.stage]", "staging "), staged));
    const TemplateSpec& an = sc.templates[sc.template_index("analysis")];
    for (const auto& ps : an.steps)
      if (ps.id == "ms#1" || ps.id == "cal") {
        INFO(ps.id);
        CHECK(printed_as(number_after(out, "    " + std::string(ps.id == "cal" ? "cal" : "ms#1..ms#4"), "staging "),
                         staging_cost(sc, ps)));
      }
    // notebook: home -> data -> staged -> launch -> running is the longest path once staging counts.
    double path = staged;
    for (const char* id : {"home", "staged", "launch", "running"}) path += sc.prepare_cost(step(id));
    CHECK(path > sc.prepare_cost(step("image")) + sc.prepare_cost(step("launch")));  // the image's path is shorter
    CHECK(printed_as(number_after(out, "    total prepare cost (critical path): ", "with staging costs "), path));
  }
}

TEST_CASE("validate: a synchronous data kind says its thread waits, and a scenario without links shows none",
          "[report]") {
  TempDir d;
  auto skaha = run_stepq({"validate", source("scenarios/skaha-basic.json")}, d.path);
  REQUIRE(skaha.status == 0);
  const std::string flat = unwrapped(skaha.out);
  CHECK(flat.find("transfer rucio-se -> cavern, the thread waits for the bytes") != std::string::npos);
  CHECK(flat.find("rule:") == std::string::npos);
  CHECK(skaha.out.find("\n  routes:\n    rucio-se -> cavern: wan;") != std::string::npos);  // a link with from/to

  auto mm4 = run_stepq({"validate", source("scenarios/mm4.json")}, d.path);
  REQUIRE(mm4.status == 0);
  CHECK(mm4.out.find("links") == std::string::npos);
  CHECK(mm4.out.find("routes") == std::string::npos);
  CHECK(mm4.out.find("staging") == std::string::npos);
}
