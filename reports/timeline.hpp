// Queue length (READY steps) and busy threads over time, per pool (simulation) or per kind (live),
// as averages over equal time bins: what the report's "over time" charts draw.
//
//   Timeline t(pools, expected_end_s / 200);
//   t.change(now, pool, Timeline::ready, +1);   // on every change of a level, in time order
//   t.finish(end_s);
//   j["timeline"] = timeline_json(t.series(), "pool", names);
//
// Cheap by design (it sits on the simulator's hot path): a change is an add and a multiply; bins
// close lazily when a change passes their end. When there are 2·kMaxBins bins, neighbours are
// merged and the bin width doubles, so memory stays bounded whatever the run's length and the
// first guess of the width only needs to be within a few powers of two.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/stats.hpp"

namespace stepq {

class Timeline {
 public:
  enum Level { ready = 0, busy = 1 };
  static constexpr std::size_t kMaxBins = 128;  // at most 2·kMaxBins - 1 bins are kept

  Timeline(std::size_t series, double bin_s);
  // A level of `series` changed by delta at time `now` (never before the previous change).
  void change(double now, std::size_t series, Level level, double delta) {
    if (now >= next_edge_) advance(now);
    const std::size_t i = 2 * series + level;
    area_[i] += level_[i] * (now - last_[i]);
    level_[i] += delta;
    last_[i] = now;
  }
  // Adds `rate` to a level over [from, now] after the fact (from ≤ now, now not before the last
  // change): a finished transfer's bytes spread evenly over the time it moved.
  void spread(double now, double from, std::size_t series, Level level, double rate);
  // Closes the last (partial) bin at `end`.
  void finish(double end);

  // The closed bins (call finish first): each value the time-average of its level over the bin.
  LevelSeries series() const;

 private:
  void advance(double now);  // closes every bin that ends at or before now
  void close_bin(double end);

  double bin_s_, start_ = 0, next_edge_;
  std::vector<double> level_, area_, last_;    // per series × {ready, busy}; last_: its last change
  std::vector<std::vector<double>> averages_;  // per series × {ready, busy}: one per closed bin
  std::vector<double> starts_;
  bool finished_ = false;
};

// {"bin_s", "t_s": [bin starts], "by": by, "series": {names[i]: {"ready": [...], "busy": [...]}}},
// values rounded to 0.001 (a chart needs no more, and the JSON stays readable).
nlohmann::ordered_json timeline_json(const LevelSeries& t, const std::string& by,
                                     const std::vector<std::string>& names);

}  // namespace stepq
