#include "censored.hpp"

#include <algorithm>
#include <cmath>

namespace stepq {

Npmle interval_censored_npmle(const std::vector<std::pair<double, double>>& in) {
  std::vector<std::pair<double, double>> iv;
  for (const auto& [l, u] : in)
    if (l >= 0 && u > l && std::isfinite(u)) iv.emplace_back(l, u);
  Npmle e;
  if (iv.empty()) return e;
  // Innermost intervals: in the sorted ends, a left end (L) directly followed by a right end (U).
  // At equal values a right end comes first: (L, U] is open at L, so U = L' does not overlap.
  std::vector<std::pair<double, int>> ends;  // (value, 0 = right end, 1 = left end)
  for (const auto& [l, u] : iv) ends.emplace_back(l, 1), ends.emplace_back(u, 0);
  std::sort(ends.begin(), ends.end());
  for (std::size_t i = 0; i + 1 < ends.size(); ++i)
    if (ends[i].second == 1 && ends[i + 1].second == 0)
      e.lo.push_back(ends[i].first), e.hi.push_back(ends[i + 1].first);
  const std::size_t m = e.lo.size();
  // Each observation covers a contiguous run [a, b] of them: those inside (L, U].
  std::vector<std::size_t> a(iv.size()), b(iv.size());
  for (std::size_t i = 0; i < iv.size(); ++i) {
    // The first innermost interval with lo ≥ L (lo == L belongs: its mass lies above L).
    a[i] = static_cast<std::size_t>(std::lower_bound(e.lo.begin(), e.lo.end(), iv[i].first) - e.lo.begin());
    b[i] = static_cast<std::size_t>(std::upper_bound(e.hi.begin(), e.hi.end(), iv[i].second) - e.hi.begin()) - 1;
  }
  // Self-consistency: p_j ← p_j · (1/n) Σ_{i covers j} 1 / P(observation i), each sum by a prefix
  // sum and a difference array, so an iteration is O(n + m), not O(n·m).
  e.mass.assign(m, 1.0 / static_cast<double>(m));
  std::vector<double> prefix(m + 1), diff(m + 1);
  const double n = static_cast<double>(iv.size());
  for (int it = 0; it < 5000; ++it) {
    for (std::size_t j = 0; j < m; ++j) prefix[j + 1] = prefix[j] + e.mass[j];
    std::fill(diff.begin(), diff.end(), 0.0);
    for (std::size_t i = 0; i < iv.size(); ++i) {
      const double p = prefix[b[i] + 1] - prefix[a[i]];
      if (!(p > 0)) continue;
      diff[a[i]] += 1 / p;
      diff[b[i] + 1] -= 1 / p;
    }
    double change = 0, run = 0;
    for (std::size_t j = 0; j < m; ++j) {
      run += diff[j];
      const double next = e.mass[j] * run / n;
      change = std::max(change, std::abs(next - e.mass[j]));
      e.mass[j] = next;
    }
    if (change < 1e-9) break;
  }
  return e;
}

double Npmle::mean() const {
  double s = 0;
  for (std::size_t j = 0; j < mass.size(); ++j) s += mass[j] * (lo[j] + hi[j]) / 2;
  return s;
}

std::vector<double> Npmle::quantiles(int k) const {
  std::vector<double> q;
  if (mass.empty() || k <= 0) return q;
  double cum = 0;
  std::size_t j = 0;
  for (int i = 0; i < k; ++i) {
    const double p = (i + 0.5) / k;
    while (j + 1 < mass.size() && cum + mass[j] < p) cum += mass[j++];
    q.push_back((lo[j] + hi[j]) / 2);
  }
  return q;
}

}  // namespace stepq
