// `simulate` beside `analyze`: each kind's simulated wait next to the queueing-theory value for
// its pool, flagged when theory falls outside the simulated 95% interval (with replications).
#pragma once
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/analytic.hpp"
#include "term_style.hpp"

namespace stepq {

// Adds kinds.K.analytic = {wait_s: {mean, p95}, model, exact, agrees}, pools.P.analytic =
// {utilization, stable}, clusters.C.analytic and links.L.analytic = {transfer_s: {mean},
// queue_wait_s: {mean}, utilization, stable, model, exact, agrees} to a simulate result.
void add_analytic(nlohmann::ordered_json& result, const Scenario& sc, const AnalyticResult& a);

void print_comparison(std::ostream& out, const nlohmann::ordered_json& result, const TermStyle& style = {});

}  // namespace stepq
