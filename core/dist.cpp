#include "dist.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace stepq {
namespace {
constexpr double kZ95 = 1.6448536269514722;  // Φ⁻¹(0.95)
constexpr double kPi = 3.14159265358979323846;

double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * kPi); }
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
}  // namespace

Dist::Dist(Type t, double a, double b) : type_(t), a_(a), b_(b) {}

Dist Dist::constant(double v) { return {Type::constant, v, 0}; }
Dist Dist::exponential(double mean) { return {Type::exponential, mean, 0}; }
Dist Dist::uniform(double lo, double hi) { return {Type::uniform, lo, hi}; }
Dist Dist::lognormal_mu_sigma(double mu, double sigma) { return {Type::lognormal, mu, sigma}; }
Dist Dist::lognormal_mean_p95(double mean, double p95) {
  // mean = e^(mu+σ²/2), p95 = e^(mu+zσ)  ⇒  σ²/2 − zσ + ln(p95/mean) = 0; take the smaller root.
  const double d = std::log(p95 / mean);
  if (!(p95 > mean)) throw std::invalid_argument("p95 must be greater than mean");
  const double disc = kZ95 * kZ95 - 2 * d;
  if (disc < 0) {
    std::ostringstream m;
    m << "p95 can be at most " << mean * std::exp(kZ95 * kZ95 / 2)
      << " (3.87 x mean) for a lognormal; use {mu, sigma} for heavier tails";
    throw std::invalid_argument(m.str());
  }
  const double sigma = kZ95 - std::sqrt(disc);
  return lognormal_mu_sigma(std::log(mean) - sigma * sigma / 2, sigma);
}
Dist Dist::normal(double mean, double sd) { return {Type::normal, mean, sd}; }
Dist Dist::gamma(double shape, double scale) { return {Type::gamma, shape, scale}; }
Dist Dist::weibull(double shape, double scale) { return {Type::weibull, shape, scale}; }
Dist Dist::empirical(std::vector<double> samples) {
  Dist d(Type::empirical, 0, 0);
  d.samples_ = std::move(samples);
  return d;
}
Dist Dist::mixture(std::vector<double> weights, std::vector<Dist> parts) {
  Dist d(Type::mixture, 0, 0);
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double c = 0;
  for (double w : weights) d.samples_.push_back(c += w / total);
  d.samples_.back() = 1.0;
  d.parts_ = std::make_shared<const std::vector<Dist>>(std::move(parts));
  return d;
}

double Dist::sample(Stream& s) const {
  switch (type_) {
    case Type::constant: return a_;
    case Type::exponential: return -a_ * std::log(s.uniform());
    case Type::uniform: return a_ + (b_ - a_) * s.uniform();
    case Type::lognormal:
    case Type::normal: {
      for (;;) {  // Box–Muller; normal is truncated at 0 by rejection
        const double z = std::sqrt(-2 * std::log(s.uniform())) * std::cos(2 * kPi * s.uniform());
        if (type_ == Type::lognormal) return std::exp(a_ + b_ * z);
        const double x = a_ + b_ * z;
        if (x >= 0) return x;
      }
    }
    case Type::gamma: {
      // Marsaglia & Tsang (2000): a squeeze on a cubed normal, for shape ≥ 1; a smaller shape
      // takes a draw at shape + 1 times U^(1/shape).
      const double k = a_ < 1 ? a_ + 1 : a_, d = k - 1.0 / 3, c = 1 / std::sqrt(9 * d);
      for (;;) {
        const double z = std::sqrt(-2 * std::log(s.uniform())) * std::cos(2 * kPi * s.uniform());
        const double v = std::pow(1 + c * z, 3);
        if (v <= 0) continue;
        const double u = s.uniform();
        if (std::log(u) < z * z / 2 + d - d * v + d * std::log(v)) {
          const double x = d * v * b_;
          return a_ < 1 ? x * std::pow(s.uniform(), 1 / a_) : x;
        }
      }
    }
    case Type::weibull: return b_ * std::pow(-std::log(s.uniform()), 1 / a_);
    case Type::empirical: {
      const auto i = static_cast<std::size_t>(s.uniform() * static_cast<double>(samples_.size()));
      return samples_[std::min(i, samples_.size() - 1)];
    }
    case Type::mixture: {
      const double u = s.uniform();
      const auto i = static_cast<std::size_t>(std::upper_bound(samples_.begin(), samples_.end(), u) - samples_.begin());
      return (*parts_)[std::min(i, parts_->size() - 1)].sample(s);
    }
  }
  return 0;
}

double Dist::mean() const {
  switch (type_) {
    case Type::constant: return a_;
    case Type::exponential: return a_;
    case Type::uniform: return (a_ + b_) / 2;
    case Type::lognormal: return std::exp(a_ + b_ * b_ / 2);
    case Type::normal: {
      if (b_ <= 0) return std::max(a_, 0.0);
      const double alpha = -a_ / b_;
      return a_ + b_ * phi(alpha) / (1 - Phi(alpha));
    }
    case Type::gamma: return a_ * b_;
    case Type::weibull: return b_ * std::tgamma(1 + 1 / a_);
    case Type::empirical:
      return std::accumulate(samples_.begin(), samples_.end(), 0.0) / static_cast<double>(samples_.size());
    case Type::mixture: {
      double m = 0, prev = 0;
      for (std::size_t i = 0; i < parts_->size(); ++i)
        m += (samples_[i] - prev) * (*parts_)[i].mean(), prev = samples_[i];
      return m;
    }
  }
  return 0;
}

double Dist::second_moment() const {
  switch (type_) {
    case Type::constant: return a_ * a_;
    case Type::exponential: return 2 * a_ * a_;
    case Type::uniform: return (a_ * a_ + a_ * b_ + b_ * b_) / 3;
    case Type::lognormal: return std::exp(2 * a_ + 2 * b_ * b_);
    case Type::normal: {
      if (b_ <= 0) return std::max(a_, 0.0) * std::max(a_, 0.0);
      const double alpha = -a_ / b_, lam = phi(alpha) / (1 - Phi(alpha));
      const double var = b_ * b_ * (1 + alpha * lam - lam * lam);
      const double m = mean();
      return var + m * m;
    }
    case Type::gamma: return a_ * (a_ + 1) * b_ * b_;
    case Type::weibull: return b_ * b_ * std::tgamma(1 + 2 / a_);
    case Type::empirical: {
      double s = 0;
      for (double x : samples_) s += x * x;
      return s / static_cast<double>(samples_.size());
    }
    case Type::mixture: {
      double m = 0, prev = 0;
      for (std::size_t i = 0; i < parts_->size(); ++i)
        m += (samples_[i] - prev) * (*parts_)[i].second_moment(), prev = samples_[i];
      return m;
    }
  }
  return 0;
}

double Dist::upper_bound() const {
  switch (type_) {
    case Type::constant: return a_;
    case Type::uniform: return b_;
    case Type::empirical: return *std::max_element(samples_.begin(), samples_.end());
    case Type::mixture: {
      double m = 0;
      for (const Dist& d : *parts_) m = std::max(m, d.upper_bound());
      return m;
    }
    case Type::exponential:
    case Type::lognormal:
    case Type::normal:
    case Type::gamma:
    case Type::weibull: return std::numeric_limits<double>::infinity();
  }
  return 0;
}

double Dist::scv() const {
  const double m = mean();
  return m > 0 ? std::max(0.0, second_moment() / (m * m) - 1) : 0;
}

std::string Dist::describe() const {
  std::ostringstream o;
  o.precision(4);
  switch (type_) {
    case Type::constant: o << "constant(" << a_ << ")"; break;
    case Type::exponential: o << "exponential(mean=" << a_ << ")"; break;
    case Type::uniform: o << "uniform(" << a_ << ".." << b_ << ")"; break;
    case Type::lognormal: o << "lognormal(mean=" << mean() << ")"; break;
    case Type::normal: o << "normal(" << a_ << ", sd=" << b_ << ")"; break;
    case Type::gamma: o << "gamma(shape=" << a_ << ", scale=" << b_ << ")"; break;
    case Type::weibull: o << "weibull(shape=" << a_ << ", scale=" << b_ << ")"; break;
    case Type::empirical: o << "empirical(n=" << samples_.size() << ", mean=" << mean() << ")"; break;
    case Type::mixture: o << "mixture(" << parts_->size() << " parts, mean=" << mean() << ")"; break;
  }
  return o.str();
}

}  // namespace stepq
