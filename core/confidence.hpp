// Confidence intervals over independent replications: x̄ ± t(R−1, 0.975)·s/√R.
#pragma once
#include <utility>
#include <vector>

namespace stepq {

// Two-sided 95% Student t quantile t(df, 0.975); df ≥ 1.
double student_t975(int df);

struct Interval {
  double mean = 0, lo = 0, hi = 0;
  double half_width() const { return (hi - lo) / 2; }
  // Half-width relative to |mean| (infinite when the mean is 0 and the width is not).
  double relative_half_width() const;
  bool contains(double x) const { return lo <= x && x <= hi; }
};

// Needs at least 2 values for a width; with one value the interval is that value.
Interval ci95(const std::vector<double>& xs);

}  // namespace stepq
