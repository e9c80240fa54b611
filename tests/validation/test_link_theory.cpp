// Transfers against queueing theory (issue 16): one link, Poisson arrivals, exponential sizes.
//
// Without a cap SimGrid shares the link's bandwidth equally among the transfers on it: an
// M/M/1 processor-sharing station, whose mean sojourn is S/(1 − ρ) (S = mean size / bandwidth).
// With FTS's max_active = 1 the link serves one transfer at a time, first come first served: an
// M/M/1 FCFS queue, mean wait ρS/(1 − ρ) before a transfer starts and then S. The transfers are
// asynchronous rules, so the threads that submit and poll them are held only for their calls:
// each pool's utilisation is exactly its claims × its call time / the run's length.
//
// Each case runs 10 independent replications; the interval checks (2 in this file) are each at
// level 1 − 0.05/2 (Bonferroni), and the point estimate must also be within 2% of theory.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/confidence.hpp"
#include "sim/replications.hpp"
#include "tests/helpers.hpp"

using namespace stepq;
using ojson = nlohmann::ordered_json;

namespace {

constexpr double kLevel = 1 - 0.05 / 2;
constexpr double kRho = 0.7, kS = 1.0;  // arrivals per second; seconds per transfer alone (1 MB at 1 MB/s)

std::string one_link(const std::string& cap, std::uint64_t seed) {
  return R"({"name": "link", "seed": )" + std::to_string(seed) + R"(, "sessions": 100000,
    "arrivals": {"process": "poisson", "rate_per_s": )" +
         std::to_string(kRho / kS) + R"(},
    "platform": {"hosts": ["se", "site"],
      "links": [{"name": "l", "from": "se", "to": "site", "bandwidth_MBps": 1, "latency_s": 0)" +
         cap + R"(}]},
    "kinds": {
      "submit": {"op": "data", "threads": 1, "service_s": 0.05, "transfer": {"from": "se", "to": "site"},
                 "rule": {"delay_s": 0}},
      "ready": {"op": "poll", "threads": 1, "service_s": 0.01, "poll": {"interval_s": 2, "watch": "rules"}}},
    "templates": [{"name": "t", "steps": [
      {"id": "d", "kind": "submit", "bytes": {"dist": "exponential", "mean": 1e6}},
      {"id": "r", "kind": "ready", "after": ["d"]}]}]})";
}

std::vector<ojson> replicate(const std::string& json) {
  sim::SimOptions opt;
  opt.warmup = sim::Warmup::parse("none");  // link statistics cover the whole run
  sim::ReplicationPlan plan;
  plan.replications = 10;
  return sim::run_each(test::scenario(json), opt, plan).runs;
}

std::vector<double> column(const std::vector<ojson>& runs, const std::string& pointer) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r[ojson::json_pointer(pointer)].get<double>());
  return v;
}

void check_against(const std::vector<ojson>& runs, const std::string& pointer, double theory) {
  const Interval i = confidence_interval(column(runs, pointer), kLevel);
  INFO(pointer << ": simulated " << i.mean << ", " << 100 * kLevel << "% interval [" << i.lo << ", " << i.hi
               << "], theory " << theory);
  CHECK(i.contains(theory));
  CHECK(i.mean == Approx(theory).epsilon(0.02));
}

}  // namespace

TEST_CASE("a link without a cap is M/M/1 processor sharing: mean transfer S/(1 - rho)", "[validation]") {
  const auto runs = replicate(one_link("", 21));
  check_against(runs, "/links/l/transfer_s/mean", kS / (1 - kRho));
  for (const auto& r : runs) {
    CHECK(r["links"]["l"]["queue_wait_s"]["max"].get<double>() == 0);
    CHECK(r["links"]["l"]["utilization"].get<double>() == Approx(kRho).epsilon(0.02));
    // Polls and submits hold no thread while bytes move: each pool is busy exactly its calls' time,
    // though on average rho/(1 - rho) = 2.3 transfers are in flight for its single thread.
    const double T = r["run"]["simulated_s"];
    CHECK(r["pools"]["ready"]["utilization"].get<double>() ==
          Approx(r["pools"]["ready"]["claims"].get<double>() * 0.01 / T).epsilon(1e-6));
    CHECK(r["pools"]["submit"]["utilization"].get<double>() ==
          Approx(r["pools"]["submit"]["claims"].get<double>() * 0.05 / T).epsilon(1e-6));
    CHECK(r["links"]["l"]["active"]["mean"].get<double>() == Approx(kRho / (1 - kRho)).epsilon(0.05));
  }
}

TEST_CASE("a link with max_active 1 is M/M/1 first come first served", "[validation]") {
  const auto runs = replicate(one_link(R"(, "max_active": 1)", 22));
  check_against(runs, "/links/l/queue_wait_s/mean", kRho * kS / (1 - kRho));
  for (const auto& r : runs) {
    // One at a time: each transfer takes exactly its size over the bandwidth (no sharing), so the
    // mean equals the mean size; the p95 is that of an exponential, S ln 20.
    const auto& l = r["links"]["l"];
    CHECK(l["transfer_s"]["mean"].get<double>() ==
          Approx(l["bytes"].get<double>() / l["transfers"].get<double>() / 1e6).epsilon(1e-6));
    CHECK(l["transfer_s"]["p95"].get<double>() == Approx(kS * std::log(20.0)).epsilon(0.03));
    CHECK(r["links"]["l"]["active"]["max"].get<int>() == 1);
    CHECK(r["links"]["l"]["queue"]["mean"].get<double>() == Approx(kRho * kRho / (1 - kRho)).epsilon(0.05));
  }
}
