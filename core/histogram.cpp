#include "histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace stepq {

namespace {
constexpr std::size_t kSub = std::size_t{1} << 11;
}

// v ≥ 2^kMinExp: its octave (clamped to the range) and its mantissa's top kSubBits bits, read
// from the IEEE 754 bits (a frexp and a multiply on the simulator's hot path before).
std::size_t Histogram::bucket(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const int e = std::clamp(static_cast<int>(bits >> 52 & 0x7ff) - 1023, kMinExp, kMaxExp - 1);  // v = 1.f·2^e
  const auto sub = static_cast<std::size_t>(bits >> (52 - kSubBits) & (kSub - 1));
  return static_cast<std::size_t>(e - kMinExp) * kSub + sub;
}

double Histogram::bucket_value(std::size_t b) {
  const int e = static_cast<int>(b / kSub) + kMinExp + 1;
  const double m = 0.5 + (static_cast<double>(b % kSub) + 0.5) / (2.0 * kSub);  // bucket middle
  return std::ldexp(m, e);
}

void Histogram::add(double v) {
  if (v < 0) v = 0;  // rounding of simulated clocks can give -1e-16
  if (n_ == 0) min_ = max_ = v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  ++n_;
  sum_ += v;
  if (v < 0x1p-30) {  // 2^kMinExp
    static_assert(kMinExp == -30);
    ++zeros_;
    return;
  }
  if (counts_.empty()) counts_.assign(static_cast<std::size_t>(kMaxExp - kMinExp) * kSub, 0);
  ++counts_[bucket(v)];
}

void Histogram::merge(const Histogram& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) min_ = o.min_, max_ = o.max_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  n_ += o.n_;
  sum_ += o.sum_;
  zeros_ += o.zeros_;
  if (!o.counts_.empty()) {
    if (counts_.empty()) counts_.assign(o.counts_.size(), 0);
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  }
}

Histogram::Parts Histogram::parts() const {
  Parts p{zeros_, n_, sum_, min_, max_, {}};
  for (std::size_t b = 0; b < counts_.size(); ++b)
    if (counts_[b]) p.buckets.emplace_back(static_cast<std::uint32_t>(b), counts_[b]);
  return p;
}

Histogram Histogram::from_parts(const Parts& p) {
  Histogram h;
  const std::size_t size = static_cast<std::size_t>(kMaxExp - kMinExp) * kSub;
  std::uint64_t n = p.zeros;
  for (const auto& [b, c] : p.buckets) {
    if (b >= size || c == 0) throw std::invalid_argument("histogram: bucket out of range or empty");
    if (h.counts_.empty()) h.counts_.assign(size, 0);
    if (h.counts_[b]) throw std::invalid_argument("histogram: a bucket given twice");
    h.counts_[b] = c;
    n += c;
  }
  if (n != p.n || (n > 0 && !(p.min <= p.max))) throw std::invalid_argument("histogram: counts do not add up");
  h.zeros_ = p.zeros, h.n_ = p.n, h.sum_ = p.sum, h.min_ = p.min, h.max_ = p.max;
  return h;
}

void Histogram::remove(double v) {
  if (v < 0) v = 0;
  if (n_ == 0) return;
  --n_;
  sum_ -= v;
  if (v < std::ldexp(1.0, kMinExp)) {
    if (zeros_) --zeros_;
  } else if (!counts_.empty() && counts_[bucket(v)]) {
    --counts_[bucket(v)];
  }
  if (n_ == 0) {
    sum_ = min_ = max_ = 0;
    return;
  }
  if (zeros_ == 0 && min_ < std::ldexp(1.0, kMinExp)) min_ = quantile(0);
  for (std::size_t b = counts_.size(); b-- > 0;)
    if (counts_[b]) {
      max_ = std::min(max_, bucket_value(b) * (1 + 1.0 / kSub));
      break;
    }
}

double Histogram::quantile(double q) const {
  if (n_ == 0) return 0;
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n_))));
  if (rank <= zeros_) return min_ < std::ldexp(1.0, kMinExp) ? min_ : 0;
  std::uint64_t seen = zeros_;
  for (std::size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::clamp(bucket_value(b), min_, max_);
  }
  return max_;
}

std::vector<std::uint64_t> Histogram::bin_counts(const std::vector<double>& edges) const {
  std::vector<std::uint64_t> out(edges.size() > 1 ? edges.size() - 1 : 0, 0);
  auto put = [&](double v, std::uint64_t n) {
    const auto it = std::upper_bound(edges.begin(), edges.end(), v);
    if (n == 0 || it == edges.begin() || it == edges.end()) return;
    out[static_cast<std::size_t>(it - edges.begin()) - 1] += n;
  };
  put(min_ < std::ldexp(1.0, kMinExp) ? min_ : 0, zeros_);
  for (std::size_t b = 0; b < counts_.size(); ++b)
    if (counts_[b]) put(std::clamp(bucket_value(b), min_, max_), counts_[b]);
  return out;
}

}  // namespace stepq
