// The links of `stepq analyze` (analytic.hpp §7): what crosses each link, the queueing station each
// link is, and what a transfer over a route costs then.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "scenario.hpp"

namespace stepq {

// One of the routes a transfer item copies over, with its probability: its replica choices
// weighted as Scenario::source draws them, the fastest route alone of each (at the item's mean
// size); route −1 = a local replica, nothing moves.
struct RouteShare {
  double probability = 0;
  int route = -1;
};
std::vector<RouteShare> route_shares(const Scenario& sc, const PlanStep& step);

// A link as a station for transfers arriving at `rate_per_s`, each S = mean_bytes/bandwidth alone.
// Every transfer present shares the bandwidth (SimGrid), so the number present is that of an
// M/M/1 queue whatever the cap: without one, processor sharing; with cap c, FIFO beyond c.
struct LinkStation {
  double rho = 0;        // λ·S
  double service_s = 0;  // S
  double wait_s = 0;     // Wq = ρ^(c+1)/((1 − ρ)λ): waiting for a slot (0 without a cap)
  double slowdown = 1;   // mean moving time of the bytes / S: 1/(1 − ρ) − Wq/S
  bool stable = true;    // ρ < 1; else wait_s = 0 and slowdown = 1 (times alone, for what they are worth)
};
LinkStation link_station(double rate_per_s, double mean_bytes, double bandwidth_Bps, int max_active);

// The scenario's links, loaded item by item, then solved; afterwards the cost of a transfer.
class LinkNetwork {
 public:
  explicit LinkNetwork(const Scenario& sc);

  // `rate_per_s` transfers over `route` of step `step` of template `tmpl`, sized `size` (a
  // constant `bytes` when null). `repeated`: a failed attempt moves them again (retries).
  void add(int route, double rate_per_s, double bytes, const Dist* size, int tmpl, int step, bool repeated);
  void solve();

  // A transfer of `bytes` over `route`: waiting_s (slots at its capped links, summed) +
  // moving_s = latency + bytes × per_byte_s, where per_byte_s is the slowest link's
  // slowdown / bandwidth (its share of the bandwidth, approximate for several links).
  double waiting_s(int route) const;
  double per_byte_s(int route) const;
  double moving_s(int route, double bytes) const;
  int overloaded_link(int route) const;  // a link of the route with ρ ≥ 1, or −1

  struct Link {
    std::string name;
    double bandwidth_Bps = 0;
    int max_active = 0;
    double rate_per_s = 0, bytes = 0, bytes2 = 0;  // λ; Σ λ·E[B], Σ λ·E[B²] (÷ λ for the moments)
    double moving_sum = 0;  // Σ λ·(mean moving time of its transfers' routes): ÷ λ for simulate's transfer_s
    bool multi_hop = false, bunched = false, repeated = false, exponential = true;
    double exp_mean = -1;                    // the one exponential mean of its sizes, while `exponential`
    std::vector<std::pair<int, int>> items;  // (template, step) that cross it
    LinkStation station;
    double mean_bytes() const { return rate_per_s > 0 ? bytes / rate_per_s : 0; }
  };
  const std::vector<Link>& links() const { return links_; }
  // The station model's name ("M/G/1-PS", "M/M/1 work-conserving, cap 4", …) and why it is not
  // exact (none: exact); `poisson` = sessions arrive as a Poisson process.
  std::pair<std::string, std::vector<std::string>> describe(int link, bool poisson) const;

 private:
  const Scenario& sc_;
  std::vector<Link> links_;
  struct Added {
    int route;
    double rate, bytes;
  };
  std::vector<Added> added_;
};

}  // namespace stepq
