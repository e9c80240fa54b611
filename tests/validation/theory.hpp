// Textbook queueing results the simulator is checked against (research/simulation.md §4),
// written out here independently of stepq's own analytic code.
#pragma once
#include <cmath>

namespace stepq::theory {

// Erlang C by the textbook sum, in long double: P(wait) for c servers at offered load a.
inline double erlang_c(int c, double a) {
  long double term = 1, sum = 0;  // term = a^k/k!
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const long double rho = a / c, last = term / (1 - rho);
  return static_cast<double>(last / (sum + last));
}

// Erlang B: the probability that an arrival finds all c servers of a loss system busy, at
// offered load a (M/G/c/c: insensitive to the service distribution beyond its mean).
inline double erlang_b(int c, double a) {
  long double b = 1;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  return static_cast<double>(b);
}

// M/M/c mean wait and wait quantile (μ = 1/mean service).
inline double mmc_wait_mean(int c, double lambda, double mu) { return erlang_c(c, lambda / mu) / (c * mu - lambda); }
inline double mmc_wait_quantile(int c, double lambda, double mu, double p) {
  const double C = erlang_c(c, lambda / mu);
  return C > 1 - p ? std::log(C / (1 - p)) / (c * mu - lambda) : 0.0;
}

// M/M/c sojourn time T = wait + service: P(T > t). Given a wait (probability C), the wait is
// Exp(θ), θ = cμ − λ, independent of the Exp(μ) service.
inline double mmc_sojourn_tail(int c, double lambda, double mu, double t) {
  const double C = erlang_c(c, lambda / mu), theta = c * mu - lambda;
  const double waited = std::abs(theta - mu) < 1e-12
                            ? (1 + mu * t) * std::exp(-mu * t)
                            : (theta * std::exp(-mu * t) - mu * std::exp(-theta * t)) / (theta - mu);
  return (1 - C) * std::exp(-mu * t) + C * waited;
}
inline double mmc_sojourn_quantile(int c, double lambda, double mu, double p) {
  double lo = 0, hi = 1;
  while (mmc_sojourn_tail(c, lambda, mu, hi) > 1 - p) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (mmc_sojourn_tail(c, lambda, mu, mid) > 1 - p ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace stepq::theory
