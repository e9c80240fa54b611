#include "cli/analyze_cmd.hpp"

#include <fstream>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/scenario_file.hpp"
#include "core/analytic.hpp"

namespace stepq {

nlohmann::ordered_json analyze_json(const Scenario& sc) { return analysis_json(sc, analyze(sc)); }

int run_analyze(const Scenario& sc, const std::string& json_path, bool quiet, std::ostream& out, std::ostream& err) {
  std::ofstream f;
  if (!json_path.empty() && json_path != "-") {
    f.open(json_path);
    if (!f) {
      err << "error: --json " << json_path << ": cannot open the result file for writing\n";
      return 1;
    }
  }
  nlohmann::ordered_json a;
  try {
    a = analyze_json(sc);
  } catch (const std::exception& e) {
    err << "stepq analyze: " << sc.file << ": " << e.what() << "\n";
    return 1;
  }
  if (!quiet) print_analysis(out, a);
  if (json_path == "-") {
    out << a.dump(2) << "\n";
  } else if (!json_path.empty()) {
    f << a.dump(2) << "\n";
    f.close();
    if (!f) {
      err << "error: --json " << json_path << ": writing the result failed\n";
      return 1;
    }
  }
  return 0;
}

struct AnalyzeCommand {
  CLI::App* cmd = nullptr;
  ScenarioArgs args;
  std::string json_out;
  bool quiet = false;
};

std::shared_ptr<AnalyzeCommand> add_analyze_command(CLI::App& app) {
  auto c = std::make_shared<AnalyzeCommand>();
  c->cmd = app.add_subcommand(
      "analyze", "Queueing-theory estimate in milliseconds: per-pool Erlang C waits, utilisation, verdicts.");
  add_scenario_args(c->cmd, c->args);
  c->cmd->add_option("--json", c->json_out, "Write the analysis JSON to FILE ('-' for stdout).")->type_name("FILE");
  c->cmd->add_flag("-q,--quiet", c->quiet, "Print nothing but errors (use with --json).");
  c->cmd->footer(
      "Each pool is an M/M/c queue (Erlang C), corrected by Allen-Cunneen for non-exponential\n"
      "service (marked approximate); arrival rates per kind come from the traffic equations\n"
      "(I - P^T) lambda = gamma, counting retries, polls and re-checks. An unstable pool gets a\n"
      "verdict naming it and the threads it needs. Keys match `simulate --json` where they mean\n"
      "the same thing, so the two can be read side by side.\n"
      "Examples:\n"
      "  stepq analyze scenarios/mm4.json\n"
      "  stepq analyze scenarios/skaha-basic.json --set /arrivals/rate_per_s=0.05 --json a.json");
  return c;
}

std::optional<int> run_analyze_command(AnalyzeCommand& c) {
  if (!*c.cmd) return std::nullopt;
  try {
    return run_analyze(load_scenario(c.args), c.json_out, c.quiet, std::cout, std::cerr);
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  }
}

}  // namespace stepq
