#include "log_bins.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace stepq {

namespace {
constexpr double kR20[20] = {1.0,  1.12, 1.25, 1.4, 1.6, 1.8, 2.0, 2.24, 2.5, 2.8,
                             3.15, 3.55, 4.0,  4.5, 5.0, 5.6, 6.3, 7.1,  8.0, 9.0};

// Computed from integers, so that 112 s is 112 and not 112.00000000000001 in the JSON.
double edge(int k) {
  const int decade = k >= 0 ? k / 20 : -((-k + 19) / 20);
  const double hundredths = static_cast<double>(std::lround(kR20[k - 20 * decade] * 100));
  return decade >= 2 ? hundredths * std::pow(10.0, decade - 2) : hundredths / std::pow(10.0, 2 - decade);
}
// The grid index of an edge value (R20 numbers are within 1% of 10^(k/20)).
int index_of_edge(double e) { return static_cast<int>(std::lround(20 * std::log10(e))); }
// The largest k with edge(k) <= v.
int floor_index(double v) {
  int k = static_cast<int>(std::floor(20 * std::log10(v))) + 1;
  while (edge(k) > v) --k;
  return k;
}
}  // namespace

nlohmann::ordered_json log_bins_json(const Histogram& h) {
  nlohmann::ordered_json j = {{"edges_s", nlohmann::ordered_json::array()},
                              {"sessions", nlohmann::ordered_json::array()}};
  if (h.count() == 0) return j;
  const int lo = floor_index(std::max(h.min(), 1e-3)), hi = floor_index(std::max(h.max(), 1e-3)) + 1;
  std::vector<double> edges;
  for (int k = lo; k <= hi; ++k) edges.push_back(edge(k));
  std::vector<double> counted = edges;
  counted.front() = -1;  // below 1 ms: the first bin
  j["edges_s"] = edges;
  j["sessions"] = h.bin_counts(counted);
  return j;
}

nlohmann::ordered_json add_log_bins(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b) {
  std::map<int, std::uint64_t> bins;  // by the grid index of the lower edge
  for (const auto* x : {&a, &b}) {
    const auto& e = (*x)["edges_s"];
    const auto& c = (*x)["sessions"];
    for (std::size_t i = 0; i < c.size(); ++i) bins[index_of_edge(e[i].get<double>())] += c[i].get<std::uint64_t>();
  }
  nlohmann::ordered_json j = {{"edges_s", nlohmann::ordered_json::array()},
                              {"sessions", nlohmann::ordered_json::array()}};
  if (bins.empty()) return j;
  const int lo = bins.begin()->first, hi = bins.rbegin()->first;
  for (int k = lo; k <= hi + 1; ++k) j["edges_s"].push_back(edge(k));
  for (int k = lo; k <= hi; ++k) j["sessions"].push_back(bins.count(k) ? bins[k] : 0);
  return j;
}

}  // namespace stepq
