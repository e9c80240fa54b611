// The fan chart of `stepq forecast --report` (issue 17, item 2), from the forecast JSON: per
// session in start-up, oldest first, its start-up from acceptance as nested bands (p05-p95,
// p25-p75), the p50 as a tick and the time it has already waited as a point; the new session
// last. Null when there is nothing to draw (so is the offer chart).
#pragma once
#include <nlohmann/json.hpp>

namespace stepq::charts {

nlohmann::ordered_json forecast_fan(const nlohmann::ordered_json& forecast);
// The new session's start-up over the replications as a cumulative share (its `samples_s`),
// with the broker's queue-blind estimate as a rule: the offer with the queue and without.
nlohmann::ordered_json forecast_offer(const nlohmann::ordered_json& forecast);

}  // namespace stepq::charts
