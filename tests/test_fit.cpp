// Distribution fitting for `stepq calibrate` (core/fit.hpp): each family recovered from its own
// samples, the empirical fallback when none fits, the KS p-value against Kolmogorov's table, and
// the gamma and Weibull distributions the fits produce (their draws against their moments).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/censored.hpp"
#include "core/fit.hpp"
#include "core/rng.hpp"

using namespace stepq;

namespace {

std::vector<double> draw(const Dist& d, std::size_t n, std::uint64_t key = 42) {
  Stream s(key);
  std::vector<double> xs;
  for (std::size_t i = 0; i < n; ++i) xs.push_back(d.sample(s));
  return xs;
}

}  // namespace

TEST_CASE("fit: each family is recovered from 20,000 of its own draws, and ranked first by AIC") {
  struct Case {
    const char* family;
    Dist dist;
    std::vector<double> params;
  };
  const std::vector<Case> cases = {{"exponential", Dist::exponential(2), {2}},
                                   {"lognormal", Dist::lognormal_mu_sigma(0.5, 0.8), {0.5, 0.8}},
                                   {"gamma", Dist::gamma(2.5, 0.8), {2.5, 0.8}},
                                   {"weibull", Dist::weibull(1.7, 3), {1.7, 3}}};
  for (const auto& c : cases) {
    const auto xs = draw(c.dist, 20000);
    const auto fits = fit_families(xs);
    INFO(c.family << ": ranked first " << fits.front().family << " (AIC " << fits.front().aic << ")");
    REQUIRE(fits.front().family == c.family);
    for (std::size_t i = 0; i < c.params.size(); ++i)
      CHECK(fits.front().params[i] == Approx(c.params[i]).epsilon(0.04));
    CHECK(fits.front().dist.mean() == Approx(c.dist.mean()).epsilon(0.02));
    CHECK(fits.front().ks_p > 0.01);
    CHECK(choose_fit(fits, xs).family == c.family);
    for (std::size_t i = 1; i < fits.size(); ++i) CHECK(fits[i].aic >= fits[i - 1].aic);
  }
}

TEST_CASE("fit: a two-humped sample fits no family and falls back to at most 1000 of its quantiles") {
  // Half near 1 s, half near 10 s: every two-parameter family misses it plainly.
  const auto a = draw(Dist::uniform(0.9, 1.1), 5000, 1), b = draw(Dist::uniform(9, 11), 5000, 2);
  std::vector<double> xs = a;
  xs.insert(xs.end(), b.begin(), b.end());
  const auto fits = fit_families(xs);
  CHECK(fits.front().ks_p < 0.01);
  const Fit chosen = choose_fit(fits, xs);
  CHECK(chosen.family == "empirical");
  CHECK(chosen.dist.type() == Dist::Type::empirical);
  CHECK(chosen.dist.mean() == Approx(5.5).epsilon(0.01));
  CHECK(chosen.dist.upper_bound() <= 11);
  Stream s(9);
  int low = 0;
  for (int i = 0; i < 10000; ++i) low += chosen.dist.sample(s) < 5;
  CHECK(low == Approx(5000).margin(200));
}

TEST_CASE("fit: fewer than 2 durations or one not above 0 is refused") {
  CHECK_THROWS_AS(fit_families({1.0}), std::invalid_argument);
  CHECK_THROWS_AS(fit_families({1.0, 0.0, 2.0}), std::invalid_argument);
  CHECK_THROWS_AS(fit_families({1.0, -2.0}), std::invalid_argument);
  // All equal: only the exponential is defined (no spread for the others).
  const auto same = fit_families({3.0, 3.0, 3.0});
  REQUIRE(same.size() == 1);
  CHECK(same.front().family == "exponential");
}

TEST_CASE("fit: nearly equal durations leave out the families that cannot be evaluated, and do not throw") {
  // Gaps between arrivals 0.333 s apart recorded near 1e9 s: equal to a few parts in 1e7. Gamma's
  // shape came out near 1e13 and Boost's CDF threw (stepq calibrate aborted on such a database).
  std::vector<double> gaps;
  for (int i = 1; i < 5000; ++i) gaps.push_back((1e9 + i * 0.333) - (1e9 + (i - 1) * 0.333));
  std::vector<Fit> fits;
  REQUIRE_NOTHROW(fits = fit_families(gaps));
  REQUIRE_FALSE(fits.empty());
  const Fit chosen = choose_fit(fits, gaps);
  CHECK(chosen.dist.mean() == Approx(0.333).epsilon(1e-4));
}

TEST_CASE("KS p-value: Kolmogorov's limiting distribution at its tabled points") {
  // P(√n D > 1.358) = 0.05 and P(√n D > 1.628) = 0.01 in the limit; n = 10^6 makes Stephens'
  // correction negligible.
  const double rn = 1000;
  CHECK(ks_p_value(1.358 / rn, 1000000) == Approx(0.05).epsilon(0.01));
  CHECK(ks_p_value(1.628 / rn, 1000000) == Approx(0.01).epsilon(0.02));
  CHECK(ks_p_value(0.1 / rn, 1000000) == 1);
  CHECK(ks_p_value(1, 100) < 1e-12);
}

TEST_CASE("gamma and Weibull draws have their distributions' mean and second moment") {
  for (const Dist& d : {Dist::gamma(0.5, 2), Dist::gamma(3, 0.5), Dist::weibull(0.8, 2), Dist::weibull(2.5, 1)}) {
    const auto xs = draw(d, 200000, 7);
    double m = 0, m2 = 0;
    for (double x : xs) m += x, m2 += x * x;
    m /= static_cast<double>(xs.size()), m2 /= static_cast<double>(xs.size());
    INFO(d.describe());
    CHECK(m == Approx(d.mean()).epsilon(0.01));
    CHECK(m2 == Approx(d.second_moment()).epsilon(0.03));
  }
  CHECK(Dist::gamma(2, 3).mean() == Approx(6));
  CHECK(Dist::weibull(1, 4).mean() == Approx(4));  // shape 1: exponential
  CHECK(Dist::gamma(4, 1).scv() == Approx(0.25));
}

TEST_CASE("censored: Turnbull's estimate recovers ready times seen only between polls") {
  // Ready R ~ lognormal (mean 20 s), looked at every 5 s from a random offset, each look 0.5 s:
  // each R is known only to lie between the last look before it and the first look after it.
  const Dist truth = Dist::lognormal_mu_sigma(std::log(20.0) - 0.18, 0.6);
  Stream rng(17);
  std::vector<std::pair<double, double>> iv;
  double at_u = 0;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    const double r = truth.sample(rng);
    double look = 0.5 + 2 * rng.uniform(), last = 0;
    while (look < r) last = look, look += 5.5;
    iv.emplace_back(last, look);
    at_u += look;
  }
  const Npmle e = interval_censored_npmle(iv);
  REQUIRE(!e.mass.empty());
  double total = 0;
  for (double p : e.mass) total += p;
  CHECK(total == Approx(1).epsilon(1e-9));
  INFO("truth " << truth.mean() << ", Turnbull " << e.mean() << ", counting looks " << at_u / n);
  CHECK(e.mean() == Approx(truth.mean()).epsilon(0.03));
  CHECK(at_u / n > truth.mean() * 1.10);  // what counting looks gives: a look late, about 2.75 s
  const auto q = e.quantiles(1000);
  REQUIRE(q.size() == 1000);
  CHECK(std::is_sorted(q.begin(), q.end()));
  const double p50 = std::exp(std::log(20.0) - 0.18);  // the lognormal's median
  CHECK(q[500] == Approx(p50).epsilon(0.08));          // to the resolution of the looks
}

TEST_CASE("censored: exact observations, and none") {
  // Intervals that do not overlap: each is its own innermost interval with mass 1/n.
  const Npmle e = interval_censored_npmle({{0, 1}, {2, 3}, {4, 5}, {-1, 2}, {3, 3}});
  REQUIRE(e.mass.size() == 3);
  for (double p : e.mass) CHECK(p == Approx(1.0 / 3));
  CHECK(e.mean() == Approx(2.5));
  CHECK(interval_censored_npmle({}).mass.empty());
  CHECK(interval_censored_npmle({}).quantiles(10).empty());
}
