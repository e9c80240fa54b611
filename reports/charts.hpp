// Vega-Lite specifications of the report's charts, built from result JSON (the same object the
// page embeds and `--json` writes), so a chart cannot show a number the result does not hold.
// Each returns null when the result has nothing to draw (e.g. no session started yet).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace stepq::charts {

using ojson = nlohmann::ordered_json;

// startup_s.histogram as bars on a log axis, p50/p95/p99 marked; the broker's queue-blind
// estimate too when estimate_s > 0.
ojson startup_histogram(const ojson& startup, double estimate_s);
// The same bins, cumulated: the share of sessions started within x seconds.
ojson startup_cdf(const ojson& startup);
// startup_s.split (Pending, queue waits, service, other) as one stacked bar, seconds and shares
// in the legend; null when there is no split or it sums to 0. Parts of 0 s are left out.
ojson startup_split(const ojson& startup);

// Per kind: `what` ("wait_s" or "service_s") mean and p95 as bars; the analytic wait as ticks
// where kinds.K.analytic has one.
ojson per_kind(const ojson& kinds, const std::string& what, const std::string& title);
// Per pool: utilization, the analytic value as a tick where pools.P.analytic has one.
ojson utilization(const ojson& pools);

// timeline: READY steps over time, one line per series; busy threads over time, one row per
// series with its thread count (`threads`: name -> count, may be empty) as a rule.
ojson ready_over_time(const ojson& timeline, const std::string& time_title);
ojson busy_over_time(const ojson& timeline, const ojson& threads, const std::string& time_title);

// tune: the search path (threads vs. each target's value) and, with --rates, the value and the
// threads needed against the arrival rate.
ojson tune_path(const ojson& tune);
ojson tune_rates(const ojson& tune);

}  // namespace stepq::charts
