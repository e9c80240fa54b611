// Start-up times binned on one fixed logarithmic grid, the R20 preferred numbers (1, 1.12, 1.25,
// 1.4, … 9 per decade: steps of 12%). Fixed, so that replications (and a live database) add up
// bin by bin; logarithmic, because start-up spans seconds to hours and its tail is the news.
//
//   r["startup_s"]["histogram"] = log_bins_json(stats.startup_s);
//   // {"edges_s": [e0, …, en], "sessions": [c0, …, c(n-1)]}: c_i values in [e_i, e_i+1)
//   combined = add_log_bins(a, b);   // the union of the two ranges, counts summed
#pragma once
#include <nlohmann/json.hpp>

#include "core/histogram.hpp"

namespace stepq {

// Values below 1 ms are counted in the first bin; an empty histogram gives empty arrays.
nlohmann::ordered_json log_bins_json(const Histogram& h);
nlohmann::ordered_json add_log_bins(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b);

}  // namespace stepq
