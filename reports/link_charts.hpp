// Vega-Lite charts of the network links data crosses (issue 16), from simulate's result (`links`
// and `timeline.links`): transfers waiting for an FTS slot and moving, and the bytes each link
// carried, over simulated time. Each returns null when the result has no links.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace stepq::charts {

// One row per link: transfers active (moving) and, stacked on them, those waiting for a slot
// under the link's max_active, with the cap as a dashed rule where there is one.
nlohmann::ordered_json link_queue_over_time(const nlohmann::ordered_json& result, const std::string& time_title);
// MB/s each link carried, one line per link (a transfer's bytes spread over the time it moved).
nlohmann::ordered_json link_throughput_over_time(const nlohmann::ordered_json& result, const std::string& time_title);

}  // namespace stepq::charts
