// Confidence intervals (core/confidence.hpp): Student t quantiles against printed tables, plain
// intervals on data worked out by hand, and control-variate intervals: data worked out by hand,
// an exact fit, the coverage of the interval on jointly normal data, and the inputs it refuses.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "core/confidence.hpp"
#include "core/rng.hpp"

using namespace stepq;

TEST_CASE("control-variate interval on data worked out by hand") {
  // y = {2, 4, 5, 4, 5} with control x = {1..5}: ȳ = 4, x̄ = 3, Sxx = 10, Sxy = 6, Syy = 6, so
  // β = 0.6, residual SS = 6 − 0.6·6 = 2.4 and s² = 2.4/(5 − 2) = 0.8; t(3, 0.975) = 3.18245.
  const std::vector<double> y = {2, 4, 5, 4, 5}, x = {1, 2, 3, 4, 5};
  // Known mean 3 = x̄: no adjustment, variance s²/5 = 0.16 → half-width 3.18245 × 0.4.
  const Interval a = control_variate_interval(y, {x}, {3}, 0.95);
  CHECK(a.mean == Approx(4));
  CHECK(a.half_width() == Approx(3.18245 * 0.4).margin(1e-4));
  // Known mean 2: estimate 4 − 0.6 × (3 − 2) = 3.4, variance 0.8 × (1/5 + 1/10) = 0.24.
  const Interval b = control_variate_interval(y, {x}, {2}, 0.95);
  CHECK(b.mean == Approx(3.4));
  CHECK(b.half_width() == Approx(3.18245 * std::sqrt(0.24)).margin(1e-4));
  // The plain interval of y is wider here: s² = 1.5 on 4 degrees of freedom.
  CHECK(ci95(y).half_width() > a.half_width());
}

TEST_CASE("control-variate interval: y an exact function of two controls gives the exact mean and no width") {
  const std::vector<double> c1 = {0.9, 1.3, 1.1, 0.7, 1.0, 1.2}, c2 = {5, 3, 4, 6, 2, 4};
  std::vector<double> y;
  for (std::size_t i = 0; i < c1.size(); ++i) y.push_back(7 + 2 * (c1[i] - 1) - 0.5 * (c2[i] - 4));
  const Interval i = control_variate_interval(y, {c1, c2}, {1, 4}, 0.99);
  CHECK(i.mean == Approx(7).margin(1e-12));
  CHECK(i.half_width() == Approx(0).margin(1e-6));
}

TEST_CASE("control-variate 95% intervals of 8 jointly normal replications cover the mean 95 times in 100") {
  // y = 1 + 2·c1 − c2 + e with c1, c2, e independent N(0, 1), and the controls' means (0) known:
  // 2 controls leave 5 degrees of freedom. 4000 sets: the coverage has a standard error of 0.34%.
  Stream rng(derive(2024, 1));
  auto normal = [&] {  // Box–Muller
    return std::sqrt(-2 * std::log(rng.uniform())) * std::cos(2 * std::numbers::pi * rng.uniform());
  };
  int covered = 0, narrower = 0;
  const int sets = 4000;
  for (int s = 0; s < sets; ++s) {
    std::vector<double> y, c1, c2;
    for (int r = 0; r < 8; ++r) {
      c1.push_back(normal());
      c2.push_back(normal());
      y.push_back(1 + 2 * c1.back() - c2.back() + normal());
    }
    const Interval i = control_variate_interval(y, {c1, c2}, {0, 0}, 0.95);
    if (i.contains(1.0)) ++covered;
    if (i.half_width() < ci95(y).half_width()) ++narrower;
  }
  INFO("covered " << covered << " of " << sets << ", narrower than the plain interval " << narrower);
  CHECK(covered >= 0.935 * sets);
  CHECK(covered <= 0.965 * sets);
  CHECK(narrower > 0.9 * sets);  // Var(y | controls) = 1 of Var(y) = 6
}

TEST_CASE("control-variate interval refuses too few replications and constant or collinear controls") {
  const std::vector<double> y = {1, 2, 3, 5}, x = {2, 1, 4, 3};
  CHECK_THROWS_AS(control_variate_interval({1, 2, 3}, {{1, 2, 4}, {3, 1, 2}}, {0, 0}, 0.95), std::invalid_argument);
  CHECK_THROWS_AS(control_variate_interval(y, {{1, 1, 1, 1}}, {1}, 0.95), std::invalid_argument);
  CHECK_THROWS_AS(control_variate_interval(y, {x, {4, 2, 8, 6}}, {0, 0}, 0.95), std::invalid_argument);
  CHECK_THROWS_AS(control_variate_interval(y, {x}, {0, 0}, 0.95), std::invalid_argument);
  CHECK_THROWS_AS(control_variate_interval(y, {{1, 2, 3}}, {0}, 0.95), std::invalid_argument);
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
