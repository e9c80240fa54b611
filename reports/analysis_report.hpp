// The result of `stepq analyze` as JSON and as a table (the table is printed from the JSON, so the
// two cannot disagree; it fits 100 columns).
//
// Keys mean what they mean in `simulate`'s result (DESIGN §4) where both have them:
// startup_s.mean, prepare_cost_s.mean, kinds.K.{pool, threads, wait_s.{mean,p50,p95,p99},
// service_s.mean, utilization}, pools.P.{threads, kinds, utilization}. Added by the analysis:
//   "method": "analytic", "arrival_rate_per_s", "arrival_scv", startup_s.approximate (always true),
//   kinds.K.{steps_per_session, visits_per_session (claims per session), arrival_rate_per_s
//   (claims per s), service_s.scv, model, exact},
//   pools.P.{arrival_rate_per_s, offered_load (threads' worth of work), service_s.{mean, scv}
//   (thread held per claim, claim_s included), stable, min_threads, erlang_c, allen_cunneen,
//   poll_delay_s, wait_s, model, exact, approximations}, "verdicts", "notes", "iterations".
// A pool that is unstable (utilization ≥ 1) has null waits, and so do its kinds; startup_s.mean
// is then null too. kinds.K.utilization is the kind's share λ_k·S_k/c (claim_s excluded, as in
// simulate); pools.P.utilization is ρ = λ·E[S]/c with claim_s included.
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/analytic.hpp"
#include "core/scenario.hpp"

namespace stepq {

nlohmann::ordered_json analysis_json(const Scenario& sc, const AnalyticResult& r);

void print_analysis(std::ostream& out, const nlohmann::ordered_json& analysis);

}  // namespace stepq
