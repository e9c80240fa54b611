// The cost of moving bytes, learnt from the transfers the live engine recorded (issue 17: "the
// per-byte cost of transfers, constant + bytes / bandwidth, by least squares"). Only transfers
// that moved alone on every link of their route count: a shared link slows each flow by the
// others' weight (core/fluid_links.hpp), and the model shares again when it runs, so a fit on
// shared transfers would count the sharing twice. Alone, a route's transfer takes
// latency + bytes / bottleneck bandwidth exactly; one fit per bottleneck link (its bandwidth,
// common to every route whose slowest hop it is) with one intercept per route (its latency),
// solved by least squares (Eigen's column-pivoting QR).
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "scenario.hpp"

namespace stepq {

struct TransferObs {
  int route = 0;  // index into PlatformSpec::routes
  double bytes = 0;
  double start = 0, end = 0;  // slots held → last byte (model seconds)
};

// Which transfers had every link of their route to themselves while they moved.
std::vector<bool> moved_alone(const PlatformSpec& p, const std::vector<TransferObs>& obs);

struct LinkCost {
  int link = 0;                                   // the bottleneck link, index into PlatformSpec::links
  double bandwidth_Bps = 0;                       // fitted
  std::vector<std::pair<int, double>> latency_s;  // per route through it: the fitted intercept
  std::size_t samples = 0;
  double r2 = 0;  // share of the variance in transfer time the fit explains
};

// Fits for every bottleneck link with at least `min_samples` lone transfers (`alone`: what
// moved_alone says of `obs`) of at least two different sizes (a slope needs them) and a positive
// slope.
std::vector<LinkCost> fit_link_costs(const PlatformSpec& p, const std::vector<TransferObs>& obs,
                                     const std::vector<bool>& alone, std::size_t min_samples);

}  // namespace stepq
