// Durations seen only between two looks: a poll learns that its thing became ready after its
// last look that found it not ready (L) and by the look that found it ready (U), never when. The
// estimate of their distribution is Turnbull's (1976) nonparametric maximum likelihood estimate
// for interval-censored data: mass only on the innermost intervals (a left end followed by a
// right end with no end between), found by the self-consistency (EM) iteration. Counting looks
// times the interval would put every duration at U: too late by half an interval on average.
//
//   const Npmle e = interval_censored_npmle(intervals);   // (L, U] each, 0 ≤ L < U
//   kind.poll->ready_after_s = Dist::empirical(e.quantiles(1000));
#pragma once
#include <utility>
#include <vector>

namespace stepq {

struct Npmle {
  // The innermost intervals [lo, hi] and the probability on each (summing to 1). Where inside an
  // interval the mass lies the data cannot say; mean() and quantiles() take its midpoint.
  std::vector<double> lo, hi, mass;
  double mean() const;
  // k evenly spaced quantiles, at probabilities (i + 0.5)/k: an empirical distribution's samples.
  std::vector<double> quantiles(int k) const;
};

// `intervals`: (L, U] with 0 ≤ L < U; others are ignored. Empty input: an empty estimate.
Npmle interval_censored_npmle(const std::vector<std::pair<double, double>>& intervals);

}  // namespace stepq
