// Service-time distributions (seconds). Sampling draws from a Stream, so it is reproducible.
//
// Kinds (scenario names): constant{value} exponential{mean} uniform{min,max}
// lognormal{mean,p95} or {mu,sigma} · normal{mean,sd} truncated at 0 · gamma{shape,scale} ·
// weibull{shape,scale} · empirical{samples} · mixture{components:[{weight, dist}]} (e.g. an image
// pull that hits the cache with p=0.8). Gamma and Weibull are what `stepq calibrate` may fit.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "rng.hpp"

namespace stepq {

class Dist {
 public:
  enum class Type { constant, exponential, uniform, lognormal, normal, empirical, mixture, gamma, weibull };

  Dist() = default;  // constant 0
  static Dist constant(double v);
  static Dist exponential(double mean);
  static Dist uniform(double lo, double hi);
  static Dist lognormal_mu_sigma(double mu, double sigma);
  // Throws std::invalid_argument unless mean < p95 <= mean·e^(z²/2) (z = 1.645), the range a
  // lognormal can take.
  static Dist lognormal_mean_p95(double mean, double p95);
  static Dist normal(double mean, double sd);
  static Dist gamma(double shape, double scale);    // mean shape·scale
  static Dist weibull(double shape, double scale);  // P(S > t) = exp(−(t/scale)^shape)
  static Dist empirical(std::vector<double> samples);
  static Dist mixture(std::vector<double> weights, std::vector<Dist> parts);

  double sample(Stream& s) const;
  double mean() const;
  double second_moment() const;  // E[S²], for the Pollaczek–Khinchine / Allen–Cunneen formulas
  double scv() const;            // squared coefficient of variation Var/mean²
  // The largest value a draw can take (infinity when unbounded: exponential, lognormal, normal).
  double upper_bound() const;
  // P(S > t). And a draw of S given S > t (forecast: a step RUNNING for t seconds, a poll not
  // ready after t): exact for every type, by inverse transform on the tail (dist_beyond.cpp);
  // t itself when nothing lies beyond it (a constant or empirical overdue).
  double survival(double t) const;
  double sample_beyond(Stream& s, double t) const;
  Type type() const { return type_; }
  std::string describe() const;  // "exponential(mean=1)", for tables

 private:
  Dist(Type t, double a, double b);
  Type type_ = Type::constant;
  // constant:value · exponential:mean · uniform:min,max · lognormal:mu,sigma · normal:mean,sd ·
  // gamma, weibull: shape,scale
  double a_ = 0, b_ = 0;
  std::vector<double> samples_;                     // empirical; mixture: cumulative weights
  std::shared_ptr<const std::vector<Dist>> parts_;  // mixture components
};

}  // namespace stepq
