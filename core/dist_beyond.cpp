// Dist's tail: P(S > t) and draws of S given S > t. `stepq forecast` needs them to continue a
// step that has already run for t seconds, and a poll whose thing was not ready t seconds after
// it began: drawing afresh would forget what the queue has already shown (research/simulation.md:
// the residual life of a non-exponential service is not the service itself).
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>

#include <algorithm>
#include <cmath>

#include "dist.hpp"

namespace stepq {

namespace {
// x with P(S > x) = q, from the upper tail directly: 1 − q would lose the digits that matter
// far out in the tail.
template <class D>
double upper_quantile(const D& d, double q) {
  return boost::math::quantile(boost::math::complement(d, q));
}
}  // namespace

double Dist::survival(double t) const {
  namespace bm = boost::math;
  if (t < 0) return 1;
  switch (type_) {
    case Type::constant: return a_ > t ? 1 : 0;
    case Type::exponential: return a_ > 0 ? std::exp(-t / a_) : 0;
    case Type::uniform: return t < a_ ? 1 : t >= b_ ? 0 : (b_ - t) / (b_ - a_);
    case Type::lognormal: return t <= 0 ? 1 : bm::cdf(bm::complement(bm::lognormal_distribution<>(a_, b_), t));
    case Type::normal: {  // truncated at 0
      const bm::normal_distribution<> n(a_, b_);
      return bm::cdf(bm::complement(n, t)) / bm::cdf(bm::complement(n, 0.0));
    }
    case Type::gamma: return t <= 0 ? 1 : bm::cdf(bm::complement(bm::gamma_distribution<>(a_, b_), t));
    case Type::weibull: return std::exp(-std::pow(t / b_, a_));
    case Type::empirical: {
      const auto above = std::count_if(samples_.begin(), samples_.end(), [t](double x) { return x > t; });
      return static_cast<double>(above) / static_cast<double>(samples_.size());
    }
    case Type::mixture: {
      double s = 0, prev = 0;
      for (std::size_t i = 0; i < parts_->size(); ++i) {
        s += (samples_[i] - prev) * (*parts_)[i].survival(t);
        prev = samples_[i];
      }
      return s;
    }
  }
  return 0;
}

double Dist::sample_beyond(Stream& s, double t) const {
  namespace bm = boost::math;
  if (t <= 0) return sample(s);
  switch (type_) {
    case Type::constant: return std::max(a_, t);
    case Type::exponential: return t + sample(s);  // memoryless
    case Type::uniform: {
      if (t >= b_) return t;
      const double lo = std::max(a_, t);
      return lo + (b_ - lo) * s.uniform();
    }
    case Type::weibull: return b_ * std::pow(std::pow(t / b_, a_) - std::log(s.uniform()), 1 / a_);
    case Type::lognormal:
    case Type::gamma:
    case Type::normal: {
      const double tail = survival(t);
      if (!(tail > 0)) return t;  // nothing representable lies beyond t
      const double q = s.uniform() * tail;
      double x = t;
      try {
        if (type_ == Type::lognormal) x = upper_quantile(bm::lognormal_distribution<>(a_, b_), q);
        else if (type_ == Type::gamma) x = upper_quantile(bm::gamma_distribution<>(a_, b_), q);
        else
          x = upper_quantile(bm::normal_distribution<>(a_, b_),
                             q * bm::cdf(bm::complement(bm::normal_distribution<>(a_, b_), 0.0)));
      } catch (const std::exception&) {  // Boost's overflow: q beyond what a double can invert
        return t;
      }
      return std::max(x, t);  // rounding at the boundary must not step back before t
    }
    case Type::empirical: {
      std::vector<double> above;
      for (double x : samples_)
        if (x > t) above.push_back(x);
      if (above.empty()) return t;
      const auto i = static_cast<std::size_t>(s.uniform() * static_cast<double>(above.size()));
      return above[std::min(i, above.size() - 1)];
    }
    case Type::mixture: {
      // Each part weighted by how likely it is to reach t: P(part i | S > t) ∝ w_i·S_i(t).
      std::vector<double> w;
      double total = 0, prev = 0;
      for (std::size_t i = 0; i < parts_->size(); ++i) {
        total += (samples_[i] - prev) * (*parts_)[i].survival(t);
        w.push_back(total);
        prev = samples_[i];
      }
      if (!(total > 0)) return t;
      const double u = s.uniform() * total;
      const auto i = static_cast<std::size_t>(std::lower_bound(w.begin(), w.end(), u) - w.begin());
      return (*parts_)[std::min(i, parts_->size() - 1)].sample_beyond(s, t);
    }
  }
  return t;
}

}  // namespace stepq
