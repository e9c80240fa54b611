// A log-bucketed histogram of non-negative values (seconds): constant memory whatever the
// number of samples, exact count/mean/min/max, quantiles within 0.05% relative error.
// Why not keep every sample: 1M sessions × a dozen claims would grow memory with run length.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace stepq {

class Histogram {
 public:
  void add(double v);
  void merge(const Histogram& o);
  // Takes back one value added before (warm-up removal). min/max become bucket-accurate.
  void remove(double v);
  std::uint64_t count() const { return n_; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0; }
  double sum() const { return sum_; }
  double min() const { return n_ ? min_ : 0; }
  double max() const { return n_ ? max_ : 0; }
  // The q-quantile (0 ≤ q ≤ 1), nearest-rank, 0 when empty.
  double quantile(double q) const;
  // How many values fall in each [edges[i], edges[i+1]), each value taken as quantile() would
  // report it (its bucket's middle); values outside [edges.front(), edges.back()) are not counted.
  std::vector<std::uint64_t> bin_counts(const std::vector<double>& edges) const;

  // Everything a histogram holds, with only its non-empty buckets: what a stored summary keeps
  // (`live status`'s cache of sealed sessions), so that a histogram read back merges and answers
  // quantiles exactly as the one written.
  struct Parts {
    std::uint64_t zeros = 0, n = 0;
    double sum = 0, min = 0, max = 0;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> buckets;  // (bucket, count), count > 0
  };
  Parts parts() const;
  // std::invalid_argument when the parts cannot come from parts(): a bucket out of range, counts
  // that do not add up to n.
  static Histogram from_parts(const Parts& p);

 private:
  static constexpr int kSubBits = 11;  // 2048 buckets per power of two
  static constexpr int kMinExp = -30;  // values below 2^-30 s (~1 ns) count as 0
  static constexpr int kMaxExp = 40;   // 2^40 s: 35 000 years
  static std::size_t bucket(double v);
  static double bucket_value(std::size_t b);
  std::vector<std::uint32_t> counts_;  // allocated on first add
  std::uint64_t zeros_ = 0, n_ = 0;
  double sum_ = 0, min_ = 0, max_ = 0;
};

}  // namespace stepq
