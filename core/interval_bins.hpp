// Time-averaged levels over equal time bins, built from intervals that come in any order: each
// interval [from, to) raises one level (ready or busy) of one series by one over its span. What
// `stepq live status` charts over time, read from an execution log of any length in bounded
// memory: the bins lie on a grid of width w (bin k is [k·w, (k+1)·w)), w a power of two seconds,
// and when the intervals seen span more than 2·kMaxBins bins, w doubles and neighbours merge, as
// reports/timeline.hpp does for the simulator's changes (which come in time order). The bins
// depend on the intervals only, not on their order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "stats.hpp"

namespace stepq {

class IntervalBins {
 public:
  enum Level { ready = 0, busy = 1 };
  static constexpr std::size_t kMaxBins = 128;  // at most 2·kMaxBins bins are kept

  explicit IntervalBins(std::size_t series = 0) : area_(2 * series) {}
  void add(std::size_t series, Level level, double from, double to);
  // At least `n` series (new ones at zero).
  void ensure_series(std::size_t n) {
    while (area_.size() < 2 * n) area_.emplace_back(area_.empty() ? 0 : area_[0].size(), 0.0);
  }
  // Series s becomes series map[s] (series with the same target add up; map[s] ≥ n: dropped);
  // `n` series after.
  void remap(const std::vector<std::size_t>& map, std::size_t n);
  // Adds `o`'s areas: the bins become the wider width of the two, doubled as the union's span
  // needs, which is the width adding both sets' intervals to one would have reached, on the same
  // grid; so the areas are the same too, up to the order of floating-point sums. More series:
  // new ones at zero.
  void merge(const IntervalBins& o);
  std::size_t series_count() const { return area_.size() / 2; }
  // Everything the bins hold, for a stored summary (`live status`'s cache of sealed sessions).
  struct Parts {
    double w = 0, first = 0, last = 0;
    std::int64_t lo = 0, hi = -1;
    std::vector<std::vector<double>> area;  // per series × level, hi − lo + 1 each
  };
  Parts parts() const { return {w_, first_, last_, lo_, hi_, area_}; }
  // std::invalid_argument when the parts cannot come from parts() (a width that is not a power
  // of two, bins off their grid, areas of the wrong size).
  static IntervalBins from_parts(Parts p);
  bool empty() const { return w_ == 0; }
  double first() const { return first_; }  // the earliest `from` seen
  double last() const { return last_; }    // the latest `to` seen
  // The averages per bin over [origin, end], each over the part of its bin inside; times in the
  // result are (t − origin) / scale.
  LevelSeries series(double origin, double end, double scale) const;

 private:
  void cover(std::int64_t lo, std::int64_t hi);  // widen the bins kept to [lo, hi]
  void coarsen();                                // w doubles: bins merge in pairs

  double w_ = 0, first_ = 0, last_ = 0;
  std::int64_t lo_ = 0, hi_ = -1;          // bins kept: [lo_, hi_]
  std::vector<std::vector<double>> area_;  // per series × level: level-seconds per bin kept
};

}  // namespace stepq
