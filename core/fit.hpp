// Fitting a distribution to observed durations (issue 17: what `stepq calibrate` learns from the
// live execution log). Each family is fitted by maximum likelihood, the fits are ranked by AIC
// (2k − 2 ln L), and each carries its Kolmogorov–Smirnov distance to the sample.
//
//   const auto fits = fit_families(service_times);   // best (least AIC) first
//   const Fit& best = choose_fit(fits, service_times.size());
//   kind.service_s = best.dist;
//
// Families (two parameters at most, no shift): exponential, lognormal, gamma, Weibull. When even
// the best of them is rejected by the KS test at 1% the choice is the empirical distribution of
// the sample. The KS p-value is Kolmogorov's for a fully specified distribution: with parameters
// estimated from the same sample it is conservative (Lilliefors), so a family is kept unless its
// misfit is plain.
#pragma once
#include <string>
#include <vector>

#include "dist.hpp"

namespace stepq {

struct Fit {
  std::string family;  // exponential, lognormal, gamma, weibull, empirical
  Dist dist;           // ready for a scenario
  // exponential: mean · lognormal: mu, sigma · gamma, weibull: shape, scale · empirical: its samples
  std::vector<double> params;
  double log_likelihood = 0;  // 0 for the empirical distribution (it has no likelihood to compare)
  double aic = 0;
  double ks = 0;    // sup |F_n(x) − F(x)|
  double ks_p = 1;  // P(a distance this large | the fitted distribution), asymptotic
};

// Every family's fit, least AIC first. `xs`: positive durations, at least 2 (std::invalid_argument
// otherwise: a non-positive value has no likelihood under any of the families).
std::vector<Fit> fit_families(const std::vector<double>& xs);

// The fit to use: the least-AIC family unless its KS p-value is below 1%, then the empirical
// distribution of `xs`.
Fit choose_fit(const std::vector<Fit>& ranked, const std::vector<double>& xs);

// Kolmogorov's limiting distribution: P(√n·D > t) for the KS distance D of n points, with
// Stephens' correction for finite n (t = (√n + 0.12 + 0.11/√n)·D).
double ks_p_value(double d, std::size_t n);

}  // namespace stepq
