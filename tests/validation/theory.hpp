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

// M/M/c mean wait and wait quantile (μ = 1/mean service).
inline double mmc_wait_mean(int c, double lambda, double mu) {
  return erlang_c(c, lambda / mu) / (c * mu - lambda);
}
inline double mmc_wait_quantile(int c, double lambda, double mu, double p) {
  const double C = erlang_c(c, lambda / mu);
  return C > 1 - p ? std::log(C / (1 - p)) / (c * mu - lambda) : 0.0;
}

}  // namespace stepq::theory
