// `stepq analyze SCENARIO [--json FILE]`: the queueing-theory estimate (core/analytic.hpp).
//
//   const nlohmann::ordered_json a = analyze_json(scenario);   // may throw std::invalid_argument
//   print_analysis(std::cout, a);                              // the table, from the JSON
//   json_file << a.dump(2) << "\n";
//
// An unstable pool is a result, not an error: its verdict is in a["verdicts"] and
// a["pools"][P]["stable"] is false (see run_analyze for the exit status it gives).
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "core/scenario.hpp"
#include "reports/analysis_report.hpp"  // print_analysis(std::ostream&, const nlohmann::ordered_json&)

namespace stepq {

// analyze(sc) turned into the result JSON (reports/analysis_report.hpp lists the keys).
nlohmann::ordered_json analyze_json(const Scenario& sc);

// The whole command after the scenario is loaded: prints the table to `out` (unless quiet) and
// writes the JSON to json_path ("-" = `out`, "" = none). Returns the exit status: 0, also when a
// pool is unstable (the verdict says so); 1 if the analysis or writing the file fails (the
// message goes to `err`).
int run_analyze(const Scenario& sc, const std::string& json_path, bool quiet, std::ostream& out, std::ostream& err);

struct AnalyzeCommand;
std::shared_ptr<AnalyzeCommand> add_analyze_command(CLI::App& app);
// After parsing: the exit status if `analyze` was chosen, nullopt otherwise.
std::optional<int> run_analyze_command(AnalyzeCommand& c);

}  // namespace stepq
