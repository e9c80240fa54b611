// The staging model in the simulator (issue 16): replicas and their choice, counts, sizes drawn
// per session, asynchronous rules, lease renewals. Queueing-theory checks of links are in
// validation/test_link_theory.cpp.
#include <catch2/catch.hpp>

#include <string>

#include "tests/helpers.hpp"

using namespace stepq;

namespace {

// One 1 MB dataset per session over one 1 MB/s link, submitted as a rule and watched by a poll.
std::string staged(const std::string& replicas, const std::string& extra_kinds = "", const std::string& tmpl = "") {
  return R"({"name": "staged", "seed": 4, "sessions": 2000, "arrivals": {"process": "poisson", "rate_per_s": 0.1},
    "platform": {"hosts": ["near", "far", "site"],
      "links": [{"name": "near", "bandwidth_MBps": 1}, {"name": "far", "bandwidth_MBps": 0.5},
                {"name": "in", "bandwidth_MBps": 10}],
      "routes": [{"from": "near", "to": "site", "links": ["near", "in"]},
                 {"from": "far", "to": "site", "links": ["far", "in"]}]},
    "kinds": {
      "stage": {"op": "data", "threads": 1, "service_s": 0.1, "transfer": {"to": "site", "replicas": )" +
         replicas + R"(}, "rule": {"delay_s": 10}},
      "ready": {"op": "poll", "threads": 1, "service_s": 0.01, "poll": {"interval_s": 1, "watch": "rules"}})" +
         extra_kinds + R"(},
    "templates": [{"name": "t", "steps": [
      {"id": "d", "kind": "stage", "bytes": 1e6},
      {"id": "r", "kind": "ready", "after": ["d"]}])" +
         tmpl + R"(}]})";
}

double link_transfers(const nlohmann::ordered_json& r, const char* l) {
  return r["links"][l]["transfers"].get<double>();
}

}  // namespace

TEST_CASE("replicas: a local one moves nothing, else the fastest route copies", "[sim][staging]") {
  // All at the site: no transfer at all, start-up is the submit and one poll.
  const auto local = test::simulate(test::scenario(staged(R"(["site"])")));
  CHECK(link_transfers(local, "near") + link_transfers(local, "far") + link_transfers(local, "in") == 0);
  CHECK(local["startup_s"]["max"].get<double>() < 1);
  // Both remote: the near route (1 MB/s) beats the far one (0.5 MB/s) every time.
  const auto both = test::simulate(test::scenario(staged(R"(["far", "near"])")));
  CHECK(link_transfers(both, "near") == 2000);
  CHECK(link_transfers(both, "far") == 0);
  CHECK(link_transfers(both, "in") == 2000);  // every hop of the route carries the bytes
  // Start-up holds the rule's 10 s delay and the 1 s transfer, seen by a poll every second.
  CHECK(both["startup_s"]["p50"].get<double>() > 11);
  CHECK(both["startup_s"]["p50"].get<double>() < 13);
  // Drawn per session: local with probability 0.6.
  const auto drawn = test::simulate(test::scenario(staged(R"([{"weight": 0.6, "hosts": ["site"]},
                                                             {"weight": 0.4, "hosts": ["far"]}])")));
  CHECK(link_transfers(drawn, "near") == 0);
  CHECK(link_transfers(drawn, "far") / 2000 == Approx(0.4).margin(0.035));  // 3.2 standard deviations
}

TEST_CASE("a rule holds the submitting thread only for its call", "[sim][staging]") {
  const auto r = test::simulate(test::scenario(staged(R"(["near"])")));
  const double T = r["run"]["simulated_s"];
  CHECK(r["pools"]["stage"]["utilization"].get<double>() ==
        Approx(r["pools"]["stage"]["claims"].get<double>() * 0.1 / T));
  // The synchronous style (no rule, no poll) holds it for the call, the delay it now sleeps, and
  // the transfer: the same kind with the rule's delay as its service time.
  const auto sync = test::simulate(test::scenario(R"({"name": "sync", "seed": 4, "sessions": 2000,
    "arrivals": {"process": "poisson", "rate_per_s": 0.1},
    "platform": {"hosts": ["near", "site"], "links": [{"name": "near", "from": "near", "to": "site", "bandwidth_MBps": 1}]},
    "kinds": {"stage": {"op": "data", "threads": 4, "service_s": 10.1, "transfer": {"from": "near", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "stage", "bytes": 1e6}]}]})"));
  CHECK(sync["kinds"]["stage"]["service_s"]["mean"].get<double>() == Approx(11.1).epsilon(0.01));
  CHECK(r["kinds"]["stage"]["service_s"]["mean"].get<double>() == Approx(0.1).epsilon(1e-6));
}

TEST_CASE("count: copies beyond a session's draw cost nothing, sizes are drawn per session", "[sim][staging]") {
  const std::string json = staged(R"(["near"])");
  const auto at = json.find(R"({"id": "d", "kind": "stage", "bytes": 1e6})");
  REQUIRE(at != std::string::npos);
  std::string counted = json;
  counted.replace(at, 42, R"({"id": "d", "kind": "stage", "count": {"dist": "empirical", "samples": [1, 3]},
                             "bytes": {"dist": "uniform", "min": 0.5e6, "max": 1.5e6}})");
  const Scenario sc = test::scenario(counted);
  REQUIRE(sc.templates[0].steps.size() == 4);  // d#1..d#3 and the poll
  CHECK(sc.templates[0].steps[2].id == "d#3");
  const auto r = test::simulate(sc);
  // Half the sessions have 1 dataset, half 3: 2 per session on average, each 1 MB on average.
  CHECK(link_transfers(r, "near") / 2000 == Approx(2).margin(0.07));  // 3.2 standard deviations
  const double mean_mb = r["links"]["near"]["bytes"].get<double>() / link_transfers(r, "near") / 1e6;
  CHECK(mean_mb == Approx(1).margin(0.02));
  CHECK(r["sessions"]["started"] == 2000);
}

TEST_CASE("a lease renews staged replicas while the session runs, late when its pool is starved", "[sim][staging]") {
  const std::string kind = R"(, "lease": {"op": "extend", "threads": 1, "service_s": 0})";
  const std::string tmpl = R"(, "session": {"run_s": 10000}, "release": [{"id": "end", "kind": "end"}],
    "lease": {"kind": "lease", "lifetime_s": 5000, "every_s": 3000})";
  const std::string end_kind = R"(, "end": {"op": "work", "threads": 1, "service_s": 0})";
  const auto r = test::simulate(test::scenario(staged(R"(["near"])", kind + end_kind, tmpl)));
  // Renewed 3000, 6000 and 9000 s after each session's start; it ends at 10000 s.
  CHECK(r["leases"]["extensions"] == 3 * 2000);
  CHECK(r["leases"]["late"] == 0);
  CHECK(r["kinds"]["lease"]["cancelled"] == 2000);  // at the session's end: nothing left to renew
  // A renewal that takes 400 s on one thread, ~3 sessions starting every 30 s: it falls behind.
  const auto slow = test::simulate(test::scenario(staged(R"(["near"])", R"(, "lease": {"op": "extend", "threads": 1,
    "service_s": 400})" + end_kind,
                                                         tmpl)));
  // A renewal that waits for its thread longer than lifetime − every_s = 2000 s is late.
  CHECK(slow["kinds"]["lease"]["wait_s"]["mean"].get<double>() > 2000);
  CHECK(slow["leases"]["late"].get<double>() > 0);
}
