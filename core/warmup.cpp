#include "warmup.hpp"

#include <limits>

namespace stepq {

std::size_t mser5(const std::vector<double>& series) {
  const std::size_t m = series.size() / 5;
  if (m < 2) return 0;
  std::vector<double> z(m);
  for (std::size_t i = 0; i < m; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < 5; ++j) s += series[5 * i + j];
    z[i] = s / 5;
  }
  // Suffix sums give every candidate d in one pass: Σ(Z−Z̄)² = ΣZ² − (ΣZ)²/n.
  double sum = 0, sumsq = 0, best = std::numeric_limits<double>::infinity();
  std::size_t best_d = 0;
  for (std::size_t d = m; d-- > 0;) {
    sum += z[d];
    sumsq += z[d] * z[d];
    const double n = static_cast<double>(m - d);
    if (d <= m / 2) {
      const double stat = (sumsq - sum * sum / n) / (n * n);
      if (stat <= best) best = stat, best_d = d;  // <=: prefer the smaller truncation on ties
    }
  }
  return 5 * best_d;
}

}  // namespace stepq
