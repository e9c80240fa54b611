#include "timeline.hpp"

#include <algorithm>
#include <cmath>

namespace stepq {

Timeline::Timeline(std::size_t series, double bin_s)
    : bin_s_(bin_s > 0 && std::isfinite(bin_s) ? bin_s : 1.0),
      next_edge_(bin_s_),
      level_(2 * series, 0),
      area_(2 * series, 0),
      last_(2 * series, 0),
      averages_(2 * series) {}

void Timeline::close_bin(double end) {
  const double width = end - start_;
  for (std::size_t i = 0; i < level_.size(); ++i) {
    area_[i] += level_[i] * (end - last_[i]);
    averages_[i].push_back(width > 0 ? area_[i] / width : level_[i]);
    area_[i] = 0;
    last_[i] = end;
  }
  starts_.push_back(start_);
  start_ = end;
  if (starts_.size() < 2 * kMaxBins || finished_) return;
  // Merge neighbours: the averages of two equal-width bins average.
  auto halve = [](std::vector<double>& v) {
    for (std::size_t k = 0; k < v.size() / 2; ++k) v[k] = (v[2 * k] + v[2 * k + 1]) / 2;
    v.resize(v.size() / 2);
  };
  for (auto& a : averages_) halve(a);
  for (std::size_t k = 0; k < starts_.size() / 2; ++k) starts_[k] = starts_[2 * k];
  starts_.resize(starts_.size() / 2);
  bin_s_ *= 2;
}

void Timeline::advance(double now) {
  while (now >= next_edge_) {
    close_bin(next_edge_);
    next_edge_ = start_ + bin_s_;  // bins close in even numbers before a merge: start_ is on the new grid
  }
}

void Timeline::spread(double now, double from, std::size_t series, Level level, double rate) {
  if (now >= next_edge_) advance(now);
  const std::size_t i = 2 * series + level;
  // Closed bins all have the current width (merging keeps them equal); the open one starts at start_.
  for (std::size_t b = starts_.size(); b-- > 0;) {
    const double lo = std::max(from, starts_[b]), hi = std::min(now, starts_[b] + bin_s_);
    if (hi <= from) break;
    if (hi > lo) averages_[i][b] += rate * (hi - lo) / bin_s_;
  }
  if (now > start_) area_[i] += rate * (now - std::max(from, start_));
}

void Timeline::finish(double end) {
  if (finished_) return;
  if (end >= next_edge_) advance(end);
  finished_ = true;  // the last bin may be partial: it must not be averaged with a full one
  if (end > start_ || starts_.empty()) close_bin(std::max(end, start_));
}

LevelSeries Timeline::series() const {
  LevelSeries t;
  t.bin_s = bin_s_;
  t.t_s = starts_;
  for (std::size_t s = 0; 2 * s + 1 < averages_.size(); ++s) {
    t.ready.push_back(averages_[2 * s + ready]);
    t.busy.push_back(averages_[2 * s + busy]);
  }
  return t;
}

nlohmann::ordered_json timeline_json(const LevelSeries& t, const std::string& by,
                                     const std::vector<std::string>& names) {
  auto rounded = [](const std::vector<double>& v) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (double x : v) a.push_back(std::round(x * 1000) / 1000);
    return a;
  };
  nlohmann::ordered_json j;
  j["bin_s"] = t.bin_s;
  j["t_s"] = t.t_s;
  j["by"] = by;
  j["series"] = nlohmann::ordered_json::object();
  for (std::size_t s = 0; s < names.size() && s < t.ready.size(); ++s)
    j["series"][names[s]] = {{"ready", rounded(t.ready[s])}, {"busy", rounded(t.busy[s])}};
  return j;
}

}  // namespace stepq
