// `analyze` against the simulator on networks and non-exponential service.
#include <catch2/catch.hpp>

#include "core/analytic.hpp"
#include "sim/replications.hpp"
#include "tests/helpers.hpp"

using namespace stepq;

TEST_CASE("Jackson network with a retry loop: analytic arrival rates equal simulated visit rates within 1%",
          "[validation]") {
  // Three kinds in series; the middle one fails with probability 0.3 and goes back to WAITING
  // (routing probability 0.3 back into itself), up to 20 attempts: 1/(1 − 0.3) visits per step.
  const Scenario sc = test::scenario(R"({
    "name": "jackson", "seed": 5, "sessions": 200000, "arrivals": {"process": "poisson", "rate_per_s": 1.0},
    "kinds": {
      "a": {"threads": 2, "service_s": {"dist": "exponential", "mean": 0.5}},
      "b": {"threads": 3, "service_s": {"dist": "exponential", "mean": 0.6},
            "retry": {"max_attempts": 20, "failure_probability": 0.3, "backoff_s": 0.5}},
      "c": {"threads": 2, "service_s": {"dist": "exponential", "mean": 0.4}}
    },
    "templates": [{"name": "t", "steps": [
      {"id": "a", "kind": "a"}, {"id": "b", "kind": "b", "after": ["a"]}, {"id": "c", "kind": "c", "after": ["b"]}]}]
  })");
  const AnalyticResult a = analyze(sc);
  sim::ReplicationPlan plan;
  plan.replications = 4;
  const auto r = sim::run_replications(sc, {}, plan);
  const double T = r["run"]["simulated_s"].get<double>() * 4;  // summed claims over 4 runs
  for (const char* k : {"a", "b", "c"}) {
    const double simulated = r["kinds"][k]["claims"].get<double>() / T;
    const double analytic = a.kinds[sc.kind_index(k)].arrival_rate_per_s;
    INFO("kind " << k << ": simulated " << simulated << " visits/s, analytic " << analytic);
    CHECK(simulated == Approx(analytic).epsilon(0.01));
  }
  CHECK(a.kinds[sc.kind_index("b")].arrival_rate_per_s == Approx(1.0 / 0.7).epsilon(1e-6));
}

TEST_CASE("M/G/4 with lognormal service against Allen-Cunneen", "[validation]") {
  // Lognormal service, mean 1 s, p95 2.5 s (Cs² ≈ 0.31), 4 threads at utilisation 0.8.
  // Allen–Cunneen is an approximation: for M/G/c at this load its error in the mean wait is
  // typically a few percent (Tijms, "A First Course in Stochastic Models", §9.5), so 8% here.
  const Scenario sc = test::scenario(R"({
    "name": "mg4", "seed": 3, "sessions": 500000, "arrivals": {"process": "poisson", "rate_per_s": 3.2},
    "kinds": {"work": {"threads": 4, "service_s": {"dist": "lognormal", "mean": 1.0, "p95": 2.5}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]
  })");
  const AnalyticResult a = analyze(sc);
  REQUIRE(a.kinds[0].wait);
  CHECK_FALSE(a.pools[0].exact);
  sim::ReplicationPlan plan;
  plan.replications = 8;
  const auto r = sim::run_replications(sc, {}, plan);
  const double sim = r["kinds"]["work"]["wait_s"]["mean"];
  INFO("simulated " << sim << ", Allen-Cunneen " << a.kinds[0].wait->mean << ", Cs2 " << a.pools[0].service_scv);
  CHECK(sim == Approx(a.kinds[0].wait->mean).epsilon(0.08));
}
