#include "warmup.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stepq {

Mser5 mser5(const std::vector<double>& series) {
  const std::size_t m = series.size() / 5;
  if (m < 2) return {};
  std::vector<double> z(m);
  for (std::size_t i = 0; i < m; ++i) {
    double s = 0;
    for (std::size_t j = 0; j < 5; ++j) s += series[5 * i + j];
    z[i] = s / 5;
  }
  // Suffix sums give every candidate d in one pass: Σ(Z−Z̄)² = ΣZ² − (ΣZ)²/n.
  const std::size_t limit = m / 2;
  double sum = 0, sumsq = 0, best = std::numeric_limits<double>::infinity();
  std::size_t best_d = 0;
  for (std::size_t d = m; d-- > 0;) {
    sum += z[d];
    sumsq += z[d] * z[d];
    const double n = static_cast<double>(m - d);
    if (d <= limit) {
      const double stat = (sumsq - sum * sum / n) / (n * n);
      if (stat <= best) best = stat, best_d = d;  // <=: prefer the smaller truncation on ties
    }
  }
  return {5 * best_d, best_d > 0 && best_d == limit};
}

namespace {
double mean(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}
}  // namespace

WarmupCut checked_mser5(const std::vector<double>& y) {
  const Mser5 cut = mser5(y);
  const std::size_t D = cut.drop, n = y.size();
  if (D == 0) return {};
  // The kept part's stretches: at least kStretches of them, none longer than the dropped start
  // (a shorter stretch varies more, so this errs towards keeping everything).
  const std::size_t w = std::min(D, (n - D) / kStretches);
  WarmupCut r;
  r.reason = cut.capped ? WarmupCut::Reason::unsteady : WarmupCut::Reason::none;
  if (w == 0) return r;
  const double kept = mean(y, D, n);
  double widest = 0;
  for (std::size_t a = D; a + w <= n; a += w) widest = std::max(widest, std::fabs(mean(y, a, a + w) - kept));
  const double start = std::fabs(mean(y, 0, D) - kept);
  r.contrast = widest > 0 ? start / widest : (start > 0 ? std::numeric_limits<double>::infinity() : 0);
  if (r.contrast > kContrast) {
    r.drop = D;
    r.reason = cut.capped ? WarmupCut::Reason::cap : WarmupCut::Reason::transient;
  }
  return r;
}

std::string reason_name(WarmupCut::Reason r) {
  switch (r) {
    case WarmupCut::Reason::none: return "none";
    case WarmupCut::Reason::transient: return "transient";
    case WarmupCut::Reason::cap: return "cap";
    case WarmupCut::Reason::unsteady: return "unsteady";
  }
  return "?";
}

}  // namespace stepq
