#include "transfer_fit.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <map>

namespace stepq {

std::vector<bool> moved_alone(const PlatformSpec& p, const std::vector<TransferObs>& obs) {
  std::vector<bool> alone(obs.size(), true);
  std::vector<std::vector<std::size_t>> on(p.links.size());  // per link: the transfers crossing it
  for (std::size_t i = 0; i < obs.size(); ++i)
    for (int l : p.routes[static_cast<std::size_t>(obs[i].route)].links) on[static_cast<std::size_t>(l)].push_back(i);
  for (auto& v : on) {
    // By start: one that starts before the latest end so far overlaps it, and so does that one.
    std::sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) { return obs[a].start < obs[b].start; });
    std::size_t holder = SIZE_MAX;
    double latest = -1e300;
    for (std::size_t i : v) {
      if (obs[i].start < latest) alone[i] = false, alone[holder] = false;
      if (obs[i].end > latest) latest = obs[i].end, holder = i;
    }
  }
  return alone;
}

std::vector<LinkCost> fit_link_costs(const PlatformSpec& p, const std::vector<TransferObs>& obs,
                                     const std::vector<bool>& alone, std::size_t min_samples) {
  // The bottleneck of a route: its slowest hop (the first of equals).
  const auto bottleneck = [&](int r) {
    int best = -1;
    for (int l : p.routes[static_cast<std::size_t>(r)].links)
      if (best < 0 ||
          p.links[static_cast<std::size_t>(l)].bandwidth_Bps < p.links[static_cast<std::size_t>(best)].bandwidth_Bps)
        best = l;
    return best;
  };
  std::map<int, std::vector<std::size_t>> by_link;
  for (std::size_t i = 0; i < obs.size(); ++i)
    if (alone[i] && obs[i].end > obs[i].start) by_link[bottleneck(obs[i].route)].push_back(i);
  std::vector<LinkCost> fits;
  for (const auto& [link, rows] : by_link) {
    if (rows.size() < min_samples) continue;
    std::map<int, int> column;  // route → its intercept's column
    for (std::size_t i : rows) column.emplace(obs[i].route, static_cast<int>(column.size()));
    const auto k = static_cast<Eigen::Index>(column.size());
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows.size()), k + 1);
    Eigen::VectorXd y(static_cast<Eigen::Index>(rows.size()));
    double lo = obs[rows[0]].bytes, hi = lo;
    for (std::size_t n = 0; n < rows.size(); ++n) {
      const TransferObs& o = obs[rows[n]];
      const auto row = static_cast<Eigen::Index>(n);
      a(row, column[o.route]) = 1;
      a(row, k) = o.bytes / 1e6;  // MB, so that the columns are of like size
      y(row) = o.end - o.start;
      lo = std::min(lo, o.bytes), hi = std::max(hi, o.bytes);
    }
    if (!(hi > lo * 1.01)) continue;  // one size: time per byte and latency cannot be told apart
    const Eigen::VectorXd x = a.colPivHouseholderQr().solve(y);
    const double s_per_MB = x(k);
    if (!(s_per_MB > 0)) continue;
    LinkCost c;
    c.link = link;
    c.bandwidth_Bps = 1e6 / s_per_MB;
    for (const auto& [route, col] : column) c.latency_s.emplace_back(route, x(col));
    c.samples = rows.size();
    const Eigen::VectorXd resid = y - a * x;
    const double mean = y.mean();
    const double tss = (y.array() - mean).square().sum();
    c.r2 = tss > 0 ? 1 - resid.squaredNorm() / tss : 1;
    fits.push_back(std::move(c));
  }
  return fits;
}

}  // namespace stepq
