#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dist.hpp"
#include "core/histogram.hpp"
#include "core/rng.hpp"

using namespace stepq;

TEST_CASE("histogram quantiles agree with sorted samples within 0.1%") {
  Stream rng(42);
  Histogram h;
  std::vector<double> v;
  for (int i = 0; i < 100000; ++i) {
    const double x = i % 10 == 0 ? 0.0 : -3.0 * std::log(rng.uniform());  // 10% exact zeros
    v.push_back(x);
    h.add(x);
  }
  std::sort(v.begin(), v.end());
  for (double q : {0.05, 0.5, 0.9, 0.95, 0.99, 0.999}) {
    const double exact = v[static_cast<std::size_t>(std::ceil(q * v.size())) - 1];
    INFO("q=" << q);
    if (exact == 0) CHECK(h.quantile(q) == 0);
    else CHECK(h.quantile(q) == Approx(exact).epsilon(0.001));
  }
  CHECK(h.count() == v.size());
  CHECK(h.max() == v.back());
}

TEST_CASE("histogram merge equals adding everything to one") {
  Histogram a, b, all;
  Stream r(7);
  for (int i = 0; i < 1000; ++i) {
    const double x = r.uniform() * 100;
    (i % 2 ? a : b).add(x);
    all.add(x);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.quantile(0.95) == all.quantile(0.95));
  CHECK(a.mean() == Approx(all.mean()));
}

TEST_CASE("distributions: sample means match their analytic means") {
  const std::vector<Dist> ds = {Dist::exponential(2), Dist::uniform(1, 3), Dist::lognormal_mean_p95(10, 25),
                                Dist::normal(5, 1), Dist::empirical({1, 2, 3, 10}),
                                Dist::mixture({0.8, 0.2}, {Dist::constant(1), Dist::exponential(50)})};
  for (const Dist& d : ds) {
    Stream rng(99);
    double sum = 0;
    const int n = 400000;
    for (int i = 0; i < n; ++i) sum += d.sample(rng);
    INFO(d.describe());
    CHECK(sum / n == Approx(d.mean()).epsilon(0.02));
  }
}

TEST_CASE("lognormal from mean and p95 reproduces its p95") {
  const Dist d = Dist::lognormal_mean_p95(2, 5);
  Stream rng(3);
  std::vector<double> v;
  for (int i = 0; i < 200000; ++i) v.push_back(d.sample(rng));
  std::sort(v.begin(), v.end());
  CHECK(v[static_cast<std::size_t>(0.95 * v.size())] == Approx(5).epsilon(0.02));
  CHECK_THROWS(Dist::lognormal_mean_p95(5, 2));     // p95 below the mean
  CHECK_THROWS(Dist::lognormal_mean_p95(1, 100));   // beyond what a lognormal can do
}

TEST_CASE("streams are pure functions of their key: order of use does not matter") {
  const auto k = session_key(1, 17);
  Stream a = step_stream(k, 2, 1), b = step_stream(k, 2, 1), c = step_stream(k, 2, 2);
  const double a1 = a.uniform();
  CHECK(a1 == b.uniform());
  CHECK(a1 != c.uniform());
  CHECK(session_key(1, 17) != session_key(2, 17));
}
