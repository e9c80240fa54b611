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

// A histogram stored by its parts (`live status`'s cache) reads back the same: every quantile,
// count and extreme, and it merges as the original would.
TEST_CASE("histogram parts read back the same histogram, and bad parts are refused") {
  Histogram h, other;
  for (int i = 0; i < 5000; ++i) h.add(i % 7 == 0 ? 0 : 0.001 * i * i);
  other.add(3);
  const Histogram back = Histogram::from_parts(h.parts());
  CHECK(back.count() == h.count());
  CHECK(back.sum() == h.sum());
  CHECK(back.min() == h.min());
  CHECK(back.max() == h.max());
  for (double q : {0.0, 0.01, 0.5, 0.95, 0.99, 1.0}) CHECK(back.quantile(q) == h.quantile(q));
  Histogram a = h, b = back;
  a.merge(other);
  b.merge(other);
  CHECK(a.quantile(0.5) == b.quantile(0.5));
  CHECK(h.parts().buckets.size() < 5000);  // sparse: only the buckets that count
  CHECK(Histogram::from_parts(Histogram().parts()).count() == 0);

  auto bad = h.parts();
  bad.n += 1;  // counts do not add up
  CHECK_THROWS_AS(Histogram::from_parts(bad), std::invalid_argument);
  bad = h.parts();
  bad.buckets.back().first = 1u << 30;  // no such bucket
  CHECK_THROWS_AS(Histogram::from_parts(bad), std::invalid_argument);
}
