// Warm-up removal: how many observations at the start of a run to leave out of its statistics.
//
// MSER-5 (White, Cobb & Spratt 2000): average the series in batches of 5, Z₁…Z_m, and pick
// d* = argmin over d ≤ m/2 of Σ_{i>d}(Z_i − Z̄_d)² / (m − d)². On its own it is biased on a
// stationary queue: waits are skewed and strongly autocorrelated, so cutting an early *high*
// excursion always lowers the statistic while a low one barely can, and the cut pulls the mean
// down (by up to 5% of the mean start-up of an M/M/4; docs/DESIGN.md §9 has the measurements).
//
// `checked_mser5` (the default) therefore keeps MSER-5's cut only when the stretch it would drop
// is clearly unlike the rest of the run: its mean must differ from the kept part's mean by more
// than kContrast times the largest such difference of any of ≥ kStretches stretches of the kept
// part, each no longer than the dropped one. A stationary run's start is one stretch among many,
// so its early excursions do not pass; a real transient (a burst, a backlog) passes by orders of
// magnitude.
//
// MSER-5 searches d ≤ m/2. When its minimum lies on that limit the transient may be longer: a cut
// that passes is capped at half the run (reason `cap`: the run is too short); one that does not
// means no steady part was found (`unsteady`: too short, or more load than capacity), and
// nothing is dropped.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace stepq {

// MSER-5's cut: a multiple of 5 observations, at most half the series. `capped` when the minimum
// lies on that limit.
struct Mser5 {
  std::size_t drop = 0;
  bool capped = false;
};
Mser5 mser5(const std::vector<double>& series);

struct WarmupCut {
  enum class Reason {
    none,       // nothing dropped: MSER-5 cut nothing, or its cut was not unlike the rest
    transient,  // the start is unlike the rest of the run: dropped
    cap,        // ... and the cut reached half the run: dropped half, the run is too short
    unsteady,   // MSER-5's cut reached half the run, and the start is not unlike what follows:
                // no steady part to keep, nothing dropped
  };
  std::size_t drop = 0;
  Reason reason = Reason::none;
  // |mean(dropped) − mean(kept)| ÷ the largest |mean(stretch) − mean(kept)|; 0 when MSER-5 cut
  // nothing or the kept part was too short to cut into stretches.
  double contrast = 0;
};

// Were the run stationary, the start would be the most unlike of kStretches + 1 stretches by
// chance 1 time in 100; the margin covers what that argument leaves out (MSER picks the start's
// end after seeing the data, shorter stretches, heavy tails) and was set by measurement.
constexpr double kContrast = 3;
constexpr int kStretches = 99;

WarmupCut checked_mser5(const std::vector<double>& series);

std::string reason_name(WarmupCut::Reason r);

}  // namespace stepq
