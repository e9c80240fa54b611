// Log-bucketed histograms (core/histogram.hpp): quantiles against sorted samples, and merging.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

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
