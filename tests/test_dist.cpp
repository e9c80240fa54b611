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

TEST_CASE("dist: survival matches plain draws, and draws beyond t follow the conditional law") {
  // For each law and a point t well inside it: P(S > t) against the share of 200,000 plain draws
  // beyond t; then 40,000 draws given S > t, whose quantiles x_p must have S(x_p)/S(t) = 1 − p
  // (binomial standard error at most 0.0025: 0.012 is over 4 of them).
  const std::vector<std::pair<Dist, double>> cases = {
      {Dist::exponential(2), 3.0},
      {Dist::uniform(1, 3), 2.5},
      {Dist::lognormal_mu_sigma(0, 0.8), 2.0},
      {Dist::normal(5, 2), 6.0},
      {Dist::gamma(4, 0.25), 1.5},
      {Dist::gamma(0.5, 2), 1.0},
      {Dist::weibull(1.5, 2), 2.5},
      {Dist::mixture({0.8, 0.2}, {Dist::exponential(1), Dist::exponential(50)}), 5.0},
  };
  for (const auto& [d, t] : cases) {
    INFO(d.describe() << " beyond " << t);
    Stream plain(7);
    int beyond = 0;
    for (int i = 0; i < 200000; ++i) beyond += d.sample(plain) > t;
    CHECK(d.survival(t) == Approx(beyond / 200000.0).margin(0.005));
    Stream rng(11);
    std::vector<double> v;
    for (int i = 0; i < 40000; ++i) v.push_back(d.sample_beyond(rng, t));
    CHECK(*std::min_element(v.begin(), v.end()) >= t);
    std::sort(v.begin(), v.end());
    for (double p : {0.25, 0.5, 0.75, 0.95}) {
      const double x = v[static_cast<std::size_t>(p * static_cast<double>(v.size()))];
      INFO("p " << p << " x " << x);
      CHECK(d.survival(x) / d.survival(t) == Approx(1 - p).margin(0.012));
    }
  }
}

TEST_CASE("dist: nothing beyond t gives t itself, and t at or below 0 is a plain draw") {
  Stream rng(1);
  CHECK(Dist::constant(4).sample_beyond(rng, 7) == 7);  // overdue: it ends now
  CHECK(Dist::constant(4).sample_beyond(rng, 1) == 4);
  CHECK(Dist::uniform(0, 10).sample_beyond(rng, 12) == 12);
  CHECK(Dist::empirical({1, 2, 3}).sample_beyond(rng, 5) == 5);
  const double x = Dist::empirical({1, 2, 3, 9}).sample_beyond(rng, 5);
  CHECK(x == 9);
  CHECK(Dist::lognormal_mu_sigma(0, 0.1).sample_beyond(rng, 1e6) == 1e6);  // beyond what a double holds
  Stream a(5), b(5);
  CHECK(Dist::gamma(2, 1).sample_beyond(a, 0) == Dist::gamma(2, 1).sample(b));
}
