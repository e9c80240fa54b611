// Vega-Lite charts of the clusters behind the broker, from simulate's result (`clusters` and
// `timeline.clusters`): how much of each cluster was in use, how many sessions waited to be
// admitted, and how many launches the per-user limit refused, over simulated time. Each returns
// null when the result has no clusters (or, for refusals, none was refused).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace stepq::charts {

// level "cores" or "memory_GB": the amount in use, one row per cluster, its total as a dashed rule.
nlohmann::ordered_json cluster_usage_over_time(const nlohmann::ordered_json& result, const std::string& level,
                                               const std::string& time_title);
// Sessions Pending in each cluster's admission queue, one line per cluster.
nlohmann::ordered_json cluster_queue_over_time(const nlohmann::ordered_json& result, const std::string& time_title);
// Launches refused by the per-user limit so far (the series is cumulative), one line per cluster
// that refused any in the charted run.
nlohmann::ordered_json cluster_refused_over_time(const nlohmann::ordered_json& result, const std::string& time_title);

}  // namespace stepq::charts
