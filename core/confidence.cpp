#include "confidence.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

namespace stepq {

double student_t_quantile(int df, double p) {
  if (df < 1) return std::numeric_limits<double>::infinity();
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

double Interval::relative_half_width() const {
  if (mean != 0) return half_width() / std::fabs(mean);
  return half_width() == 0 ? 0 : std::numeric_limits<double>::infinity();
}

Interval confidence_interval(const std::vector<double>& xs, double level) {
  Interval r;
  if (xs.empty()) return r;
  double s = 0;
  for (double x : xs) s += x;
  const double n = static_cast<double>(xs.size());
  r.mean = s / n;
  r.lo = r.hi = r.mean;
  if (xs.size() < 2) return r;
  double ss = 0;
  for (double x : xs) ss += (x - r.mean) * (x - r.mean);
  const double h = student_t_quantile(static_cast<int>(xs.size()) - 1, (1 + level) / 2) * std::sqrt(ss / (n - 1) / n);
  r.lo = r.mean - h;
  r.hi = r.mean + h;
  return r;
}

}  // namespace stepq
