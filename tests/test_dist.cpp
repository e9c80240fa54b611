// Service-time distributions (core/dist.hpp): their means and quantiles as sampled.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dist.hpp"
#include "core/histogram.hpp"
#include "core/rng.hpp"

using namespace stepq;

TEST_CASE("distributions: sample means match their means worked out by hand") {
  // 400,000 draws: the largest standard error here (the mixture's) is 0.45% of its mean.
  const std::vector<std::pair<Dist, double>> cases = {
      {Dist::exponential(2), 2.0},
      {Dist::uniform(1, 3), 2.0},
      {Dist::lognormal_mean_p95(10, 25), 10.0},
      {Dist::normal(5, 1), 5.0},  // truncation at 0 is 5 sd away: moves the mean by 1.5e-6
      {Dist::empirical({1, 2, 3, 10}), 4.0},
      {Dist::mixture({0.8, 0.2}, {Dist::constant(1), Dist::exponential(50)}), 0.8 * 1 + 0.2 * 50},
  };
  for (const auto& [d, mean] : cases) {
    Stream rng(99);
    double sum = 0;
    const int n = 400000;
    for (int i = 0; i < n; ++i) sum += d.sample(rng);
    INFO(d.describe());
    CHECK(sum / n == Approx(mean).epsilon(0.02));
    CHECK(d.mean() == Approx(mean).epsilon(1e-6));
  }
}

TEST_CASE("lognormal from mean and p95 reproduces its p95") {
  const Dist d = Dist::lognormal_mean_p95(2, 5);
  Stream rng(3);
  std::vector<double> v;
  for (int i = 0; i < 200000; ++i) v.push_back(d.sample(rng));
  std::sort(v.begin(), v.end());
  CHECK(v[static_cast<std::size_t>(0.95 * v.size())] == Approx(5).epsilon(0.02));
  CHECK_THROWS(Dist::lognormal_mean_p95(5, 2));    // p95 below the mean
  CHECK_THROWS(Dist::lognormal_mean_p95(1, 100));  // beyond what a lognormal can do
}
