// stepq's Erlang C (Erlang B recursion, core/erlang.cpp) against the textbook sum formula
// evaluated independently in long double (tests/validation/theory.hpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "core/analytic.hpp"
#include "core/erlang.hpp"
#include "tests/helpers.hpp"
#include "validation/theory.hpp"

using namespace stepq;

namespace {
// Poisson arrivals at 3.2/s to one pool of `threads`, exponential service with mean 1 s.
Scenario poisson_pool(int threads) {
  return test::scenario(R"({"name": "pool", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 3.2},
    "kinds": {"work": {"threads": )" +
                        std::to_string(threads) + R"(, "service_s": {"dist": "exponential", "mean": 1.0}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})");
}
}  // namespace

TEST_CASE("Erlang C at c = 1, 4, 100, 1000 matches the sum formula to 1e-9", "[validation]") {
  for (int c : {1, 4, 100, 1000})
    for (double rho : {0.3, 0.8, 0.95}) {
      const double a = rho * c;
      INFO("c=" << c << " rho=" << rho);
      const double ref = theory::erlang_c(c, a);
      CHECK(std::fabs(erlang_c(c, a) - ref) / ref < 1e-9);
      const double wq = theory::mmc_wait_mean(c, a, 1.0);
      CHECK(std::fabs(mmc_mean_wait(c, a, 1.0) - wq) / wq < 1e-9);
    }
  CHECK(erlang_c(1, 0.5) == Approx(0.5).epsilon(1e-12));  // M/M/1: P(wait) = rho
}

TEST_CASE("analyze mm4: wait 0.7455 s, utilization 0.8, exact M/M/c", "[validation]") {
  const Scenario sc = poisson_pool(4);
  const AnalyticResult a = analyze(sc);
  REQUIRE(a.kinds[0].wait);
  CHECK(a.kinds[0].wait->mean == Approx(theory::mmc_wait_mean(4, 3.2, 1)).epsilon(1e-9));
  CHECK(std::fabs(a.kinds[0].wait->mean - 0.7455) < 0.0001);
  CHECK(a.kinds[0].wait->p95 == Approx(theory::mmc_wait_quantile(4, 3.2, 1, 0.95)).epsilon(1e-6));
  CHECK(a.pools[0].utilization == Approx(0.8));
  CHECK(a.pools[0].exact);
}

TEST_CASE("analyze: an unstable pool gets a verdict naming it and the threads it needs", "[validation]") {
  // 3.2 sessions/s × 1 s = 3.2 threads' worth of work on 3 threads: needs 4.
  const Scenario sc = poisson_pool(3);
  const AnalyticResult a = analyze(sc);
  CHECK_FALSE(a.pools[0].stable);
  CHECK(a.pools[0].min_threads == 4);
  CHECK_FALSE(a.kinds[0].wait.has_value());
  REQUIRE_FALSE(a.verdicts.empty());
  CHECK_THAT(a.verdicts[0], Catch::Contains("work") && Catch::Contains("4 threads"));
}
