#include "interval_bins.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stepq {

namespace {

std::int64_t bin_of(double t, double w) { return static_cast<std::int64_t>(std::floor(t / w)); }
// Floor division by 2 (bin indexes are negative for times before the epoch).
std::int64_t half(std::int64_t k) { return k >= 0 ? k / 2 : -((-k + 1) / 2); }

}  // namespace

void IntervalBins::add(std::size_t series, Level level, double from, double to) {
  if (!(to > from)) return;  // no time at that level (or NaN)
  if (w_ == 0) {
    // Widths are powers of two from 2^-10 s, doubled only as the span seen needs: so the final
    // width depends on that span alone, not on the order the intervals came in.
    w_ = std::ldexp(1.0, -10);
    first_ = from;
    last_ = to;
  }
  first_ = std::min(first_, from);
  last_ = std::max(last_, to);
  std::int64_t a = bin_of(from, w_), b = bin_of(to, w_);
  const auto span = [&] { return hi_ < lo_ ? b - a + 1 : std::max(b, hi_) - std::min(a, lo_) + 1; };
  while (span() > static_cast<std::int64_t>(2 * kMaxBins)) {
    coarsen();
    a = bin_of(from, w_);
    b = bin_of(to, w_);
  }
  cover(a, b);
  auto& v = area_[2 * series + level];
  if (a == b) {
    v[a - lo_] += to - from;
    return;
  }
  v[a - lo_] += (a + 1) * w_ - from;
  for (std::int64_t k = a + 1; k < b; ++k) v[k - lo_] += w_;
  v[b - lo_] += to - b * w_;
}

void IntervalBins::cover(std::int64_t lo, std::int64_t hi) {
  if (hi_ < lo_) {  // nothing kept yet
    lo_ = lo;
    hi_ = hi;
    for (auto& v : area_) v.assign(static_cast<std::size_t>(hi - lo + 1), 0.0);
    return;
  }
  const std::int64_t new_lo = std::min(lo, lo_), new_hi = std::max(hi, hi_);
  if (new_lo == lo_ && new_hi == hi_) return;
  for (auto& v : area_) {
    std::vector<double> w(static_cast<std::size_t>(new_hi - new_lo + 1), 0.0);
    std::copy(v.begin(), v.end(), w.begin() + (lo_ - new_lo));
    v.swap(w);
  }
  lo_ = new_lo;
  hi_ = new_hi;
}

void IntervalBins::coarsen() {
  w_ *= 2;
  if (hi_ < lo_) return;
  const std::int64_t new_lo = half(lo_), new_hi = half(hi_);
  for (auto& v : area_) {
    std::vector<double> w(static_cast<std::size_t>(new_hi - new_lo + 1), 0.0);
    for (std::int64_t k = lo_; k <= hi_; ++k) w[half(k) - new_lo] += v[k - lo_];
    v.swap(w);
  }
  lo_ = new_lo;
  hi_ = new_hi;
}

void IntervalBins::remap(const std::vector<std::size_t>& map, std::size_t n) {
  std::vector<std::vector<double>> out(2 * n, std::vector<double>(area_.empty() ? 0 : area_[0].size(), 0.0));
  for (std::size_t s = 0; s < map.size() && 2 * s + 1 < area_.size(); ++s)
    if (map[s] < n)  // else dropped
      for (int l = 0; l < 2; ++l)
        for (std::size_t k = 0; k < area_[2 * s + l].size(); ++k) out[2 * map[s] + l][k] += area_[2 * s + l][k];
  area_.swap(out);
}

void IntervalBins::merge(const IntervalBins& o) {
  ensure_series(o.series_count());
  if (o.w_ == 0) return;
  IntervalBins b = o;
  b.ensure_series(series_count());
  if (w_ == 0) {
    *this = std::move(b);
    return;
  }
  first_ = std::min(first_, b.first_);
  last_ = std::max(last_, b.last_);
  while (w_ < b.w_) coarsen();
  while (b.w_ < w_) b.coarsen();
  while (std::max(hi_, b.hi_) - std::min(lo_, b.lo_) + 1 > static_cast<std::int64_t>(2 * kMaxBins)) {
    coarsen();
    b.coarsen();
  }
  cover(b.lo_, b.hi_);
  for (std::size_t s = 0; s < area_.size(); ++s)
    for (std::int64_t k = b.lo_; k <= b.hi_; ++k) area_[s][k - lo_] += b.area_[s][k - b.lo_];
}

IntervalBins IntervalBins::from_parts(Parts p) {
  int e = 0;
  const bool pow2 = p.w > 0 && std::frexp(p.w, &e) == 0.5 && e - 1 >= -10;
  const bool empty = p.w == 0 && p.hi < p.lo;
  const auto bins = static_cast<std::size_t>(p.hi - p.lo + 1);
  bool ok = p.area.size() % 2 == 0 && (empty || (pow2 && p.hi >= p.lo && bins <= 2 * kMaxBins && p.first <= p.last &&
                                                 bin_of(p.first, p.w) == p.lo && bin_of(p.last, p.w) == p.hi));
  for (const auto& v : p.area) ok = ok && v.size() == (empty ? 0 : bins);
  if (!ok) throw std::invalid_argument("interval bins: parts off their grid");
  IntervalBins b;
  b.w_ = p.w, b.first_ = p.first, b.last_ = p.last, b.lo_ = p.lo, b.hi_ = p.hi;
  b.area_ = std::move(p.area);
  return b;
}

LevelSeries IntervalBins::series(double origin, double end, double scale) const {
  LevelSeries t;
  t.bin_s = w_ / scale;
  const std::size_t n = area_.size() / 2;
  t.ready.resize(n);
  t.busy.resize(n);
  if (w_ == 0) return t;
  for (std::int64_t k = std::max(lo_, bin_of(origin, w_)); k <= hi_; ++k) {
    const double from = std::max(k * w_, origin), to = std::min((k + 1) * w_, end);
    if (!(to > from)) break;
    t.t_s.push_back((from - origin) / scale);
    for (std::size_t s = 0; s < n; ++s) {
      t.ready[s].push_back(area_[2 * s + ready][k - lo_] / (to - from));
      t.busy[s].push_back(area_[2 * s + busy][k - lo_] / (to - from));
    }
  }
  return t;
}

}  // namespace stepq
