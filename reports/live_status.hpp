// `stepq live status`: what the database says about sessions, steps, waits and processors.
//
//   const auto j = live_status_json(store.status(), time_scale);  // keys below
//   print_live_status(std::cout, j);
//
// Keys: sessions.{ACTIVE,COMPLETED,FAILED,CANCELLED}; startup_s.{count,mean,p50,p95,p99,max};
// kinds.<name>.{steps.<PHASE>, wait_s.{mean,p95}, service_s.{mean,p95}, executions, retries, lost,
// reaped}; processors[] {id, host, pid, pools, state, heartbeat_age_s, running, stop_reason};
// failures.reasons; forecasts.{count, within_p95, within_p95_fraction, startup_vs_p50_median,
// startup_vs_queue_blind_median} (when `stepq forecast --record` stored some);
// submissions_active; startup_s.histogram (reports/log_bins.hpp); timeline (reports/timeline.hpp:
// by kind, from the execution log, t_s counted from the first READY step). Durations are divided
// by time_scale (model seconds when the run used --time-scale; wall seconds otherwise).
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "backends/live/store.hpp"
#include "term_style.hpp"

namespace stepq {

nlohmann::ordered_json live_status_json(const live::LiveStatus& st, double time_scale);
// Fits 100 columns.
void print_live_status(std::ostream& out, const nlohmann::ordered_json& j, const TermStyle& style = {});

}  // namespace stepq
