// The HTML reports of `simulate --report`, `tune --report`, `live status --report` and
// `forecast --report`: one page
// each (reports/html_page.hpp), built from the very JSON that `--json` writes, which the page
// also embeds. Each throws std::runtime_error naming the file when it cannot be written.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/scenario.hpp"

namespace stepq {

// result: simulate's result JSON (analytic comparison included when there is one).
void write_simulation_report(const std::string& path, const Scenario& sc, const nlohmann::ordered_json& result);
// tune: tune's answer JSON (sim/tune.hpp).
void write_tune_report(const std::string& path, const Scenario& sc, const nlohmann::ordered_json& tune);
// status: live_status_json (reports/live_status.hpp); db: the --db URL, for the title.
void write_live_report(const std::string& path, const std::string& db, const nlohmann::ordered_json& status);
// forecast: `stepq forecast`'s JSON (cli/forecast_cmd.cpp), with its fan chart.
void write_forecast_report(const std::string& path, const nlohmann::ordered_json& forecast);

}  // namespace stepq
