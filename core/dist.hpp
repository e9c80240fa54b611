// Service-time distributions (seconds). Sampling draws from a Stream, so it is reproducible.
//
// Kinds (scenario names): constant{value} exponential{mean} uniform{min,max}
// lognormal{mean,p95} or {mu,sigma} · normal{mean,sd} truncated at 0 · empirical{samples} ·
// mixture{components:[{weight, dist}]} (e.g. an image pull that hits the cache with p=0.8).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "rng.hpp"

namespace stepq {

class Dist {
 public:
  enum class Type { constant, exponential, uniform, lognormal, normal, empirical, mixture };

  Dist() = default;  // constant 0
  static Dist constant(double v);
  static Dist exponential(double mean);
  static Dist uniform(double lo, double hi);
  static Dist lognormal_mu_sigma(double mu, double sigma);
  // Throws std::invalid_argument unless mean < p95 <= mean·e^(z²/2) (z = 1.645), the range a
  // lognormal can take.
  static Dist lognormal_mean_p95(double mean, double p95);
  static Dist normal(double mean, double sd);
  static Dist empirical(std::vector<double> samples);
  static Dist mixture(std::vector<double> weights, std::vector<Dist> parts);

  double sample(Stream& s) const;
  double mean() const;
  double second_moment() const;  // E[S²], for the Pollaczek–Khinchine / Allen–Cunneen formulas
  double scv() const;            // squared coefficient of variation Var/mean²
  // The largest value a draw can take (infinity when unbounded: exponential, lognormal, normal).
  double upper_bound() const;
  Type type() const { return type_; }
  std::string describe() const;  // "exponential(mean=1)", for tables

 private:
  Dist(Type t, double a, double b);
  Type type_ = Type::constant;
  double a_ = 0, b_ = 0;  // constant:value · exponential:mean · uniform:min,max · lognormal:mu,sigma · normal:mean,sd
  std::vector<double> samples_;                        // empirical; mixture: cumulative weights
  std::shared_ptr<const std::vector<Dist>> parts_;     // mixture components
};

}  // namespace stepq
