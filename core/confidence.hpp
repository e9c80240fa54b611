// Confidence intervals over independent replications: x̄ ± t(R−1, (1+level)/2)·s/√R, and the
// same with control variates.
#pragma once
#include <vector>

namespace stepq {

// The p-quantile of Student's t with df ≥ 1 degrees of freedom (Boost.Math); infinite for df < 1.
double student_t_quantile(int df, double p);
// Two-sided 95%: t(df, 0.975).
inline double student_t975(int df) { return student_t_quantile(df, 0.975); }

struct Interval {
  double mean = 0, lo = 0, hi = 0;
  double half_width() const { return (hi - lo) / 2; }
  // Half-width relative to |mean| (infinite when the mean is 0 and the width is not).
  double relative_half_width() const;
  bool contains(double x) const { return lo <= x && x <= hi; }
};

// Two-sided interval for the mean at `level` (0.95: 95%), from independent values. Needs at
// least 2 values for a width; with one value the interval is that value.
Interval confidence_interval(const std::vector<double>& xs, double level);
inline Interval ci95(const std::vector<double>& xs) { return confidence_interval(xs, 0.95); }

// The mean of y over independent replications with control variates (Lavenberg & Welch 1981;
// Law, "Simulation Modeling and Analysis", §11.4): controls[j][i] is a statistic of replication i
// whose expectation control_means[j] is known exactly (a sample mean of the inputs, say). The
// estimate is the intercept of the least-squares fit of y on the controls minus their means,
// ȳ − β̂ᵀ(c̄ − μ), and the interval is Student t on R − 1 − q degrees of freedom for q controls:
// exact when y and the controls are jointly normal across replications. Needs R ≥ q + 2 and
// controls that are neither constant nor collinear; throws std::invalid_argument otherwise.
Interval control_variate_interval(const std::vector<double>& y, const std::vector<std::vector<double>>& controls,
                                  const std::vector<double>& control_means, double level);

}  // namespace stepq
