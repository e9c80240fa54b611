#include "confidence.hpp"

#include <cmath>
#include <limits>

namespace stepq {

double student_t975(int df) {
  // Exact to 3 decimals for small df (standard tables); Cornish–Fisher expansion beyond.
  static const double table[] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074,  2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) return std::numeric_limits<double>::infinity();
  if (df <= 30) return table[df];
  const double z = 1.959963984540054, n = df;
  return z + (z * z * z + z) / (4 * n) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n);
}

double Interval::relative_half_width() const {
  if (mean != 0) return half_width() / std::fabs(mean);
  return half_width() == 0 ? 0 : std::numeric_limits<double>::infinity();
}

Interval ci95(const std::vector<double>& xs) {
  Interval r;
  if (xs.empty()) return r;
  double s = 0;
  for (double x : xs) s += x;
  r.mean = s / static_cast<double>(xs.size());
  r.lo = r.hi = r.mean;
  if (xs.size() < 2) return r;
  double ss = 0;
  for (double x : xs) ss += (x - r.mean) * (x - r.mean);
  const double n = static_cast<double>(xs.size());
  const double h = student_t975(static_cast<int>(xs.size()) - 1) * std::sqrt(ss / (n - 1) / n);
  r.lo = r.mean - h;
  r.hi = r.mean + h;
  return r;
}

}  // namespace stepq
