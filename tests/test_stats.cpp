#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/confidence.hpp"
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

TEST_CASE("Student t quantiles match the printed tables") {
  // Two-sided 95% (t at 0.975), e.g. Montgomery & Runger, Table V.
  CHECK(student_t975(1) == Approx(12.706).margin(0.0005));
  CHECK(student_t975(2) == Approx(4.303).margin(0.0005));
  CHECK(student_t975(4) == Approx(2.776).margin(0.0005));
  CHECK(student_t975(9) == Approx(2.262).margin(0.0005));
  CHECK(student_t975(30) == Approx(2.042).margin(0.0005));
  CHECK(student_t975(1000000) == Approx(1.95996).margin(0.00001));  // the normal's 1.959964
  CHECK(student_t_quantile(4, 0.995) == Approx(4.604).margin(0.0005));
  CHECK(student_t_quantile(9, 0.05) == Approx(-1.833).margin(0.0005));
  CHECK(std::isinf(student_t975(0)));
}

TEST_CASE("confidence intervals on data worked out by hand") {
  // {1..5}: mean 3, s² = 2.5, s/√5 = 0.70711, t(4) = 2.77645 → half-width 1.96324.
  const Interval a = ci95({1, 2, 3, 4, 5});
  CHECK(a.mean == Approx(3));
  CHECK(a.lo == Approx(3 - 1.96324).margin(1e-4));
  CHECK(a.hi == Approx(3 + 1.96324).margin(1e-4));
  CHECK(a.relative_half_width() == Approx(1.96324 / 3).margin(1e-4));
  // {10, 12}: mean 11, s = √2, s/√2 = 1, t(1) = 12.7062.
  const Interval b = ci95({10, 12});
  CHECK(b.lo == Approx(11 - 12.7062).margin(1e-3));
  CHECK(b.hi == Approx(11 + 12.7062).margin(1e-3));
  // 99%: t(4, 0.995) = 4.60409 → half-width 3.25558.
  const Interval c = confidence_interval({1, 2, 3, 4, 5}, 0.99);
  CHECK(c.half_width() == Approx(3.25558).margin(1e-4));
  CHECK(c.contains(0.0));
  CHECK_FALSE(a.contains(0.0));
  // One value: no width; none: all zero.
  const Interval d = ci95({7});
  CHECK((d.lo == 7 && d.hi == 7 && d.mean == 7));
  CHECK(ci95({}).half_width() == 0);
}
