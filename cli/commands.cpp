#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "cli/analyze_cmd.hpp"
#include "cli/exit_codes.hpp"
#include "cli/live_cmd.hpp"
#include "cli/report_file.hpp"
#include "cli/tune_cmd.hpp"
#include "cli/scenario_file.hpp"
#include "cli/validate.hpp"
#include "reports/comparison.hpp"
#include "reports/html_report.hpp"
#include "reports/term_style.hpp"
#include "reports/result_json.hpp"
#include "reports/summary_table.hpp"
#include "reports/trace_csv.hpp"
#include "sim/replications.hpp"
#include "sim/simulation.hpp"

namespace stepq {

namespace {

struct Common {
  std::string scenario;
  std::vector<std::string> sets;
};

void add_scenario_options(CLI::App* cmd, Common& c) {
  cmd->add_option("SCENARIO", c.scenario, "Scenario file (JSON; // comments allowed). See docs/scenarios.md.")
      ->required();
  cmd->add_option("--set", c.sets,
                  "Override one field before checking: JSON pointer = value (JSON, or a plain string).\n"
                  "Repeat for several. Example: --set /kinds/data.stage/threads=8")
      ->type_name("PTR=VALUE");
}

Scenario load(const Common& c) {
  std::vector<Override> ov;
  for (const auto& s : c.sets) ov.push_back(parse_override(s));
  return load_scenario_file(c.scenario, ov);
}

// Opened before a long run starts, so an unwritable path fails at once, not after the work.
class JsonOut {
 public:
  explicit JsonOut(const std::string& path) : path_(path) {
    if (path_.empty() || path_ == "-") return;
    f_.open(path_);
    if (!f_) throw ScenarioError("--json " + path_ + ": cannot open the result file for writing");
  }
  void write(const nlohmann::ordered_json& j) {
    if (path_.empty()) return;
    (path_ == "-" ? std::cout : f_) << j.dump(2) << "\n";
    if (path_ != "-") {
      f_.close();
      if (!f_) throw std::runtime_error("--json " + path_ + ": writing the result failed");
    }
  }

 private:
  std::string path_;
  std::ofstream f_;
};

// A run that settles into a steady state may have a transient worth removing; a trace replay
// is the answer itself, start included.
sim::Warmup default_warmup(const Scenario& s) {
  if (s.arrivals.process == ArrivalSpec::Process::trace) return {sim::Warmup::Method::none, 0};
  return {};
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "stepq: predicts and runs the preparation of execution sessions for a science-platform\n"
      "execution broker (image pull, storage, data staging, compute launch) as steps in a\n"
      "database-backed queue served by one worker pool per step kind."};
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  stepq validate scenarios/skaha-basic.json\n"
      "  stepq simulate scenarios/skaha-basic.json --sessions 20000 --json result.json\n"
      "  stepq simulate scenarios/skaha-basic.json --set /kinds/data.stage/threads=8\n"
      "  stepq analyze scenarios/skaha-basic.json\n"
      "  stepq tune scenarios/skaha-basic.json --target p95=300\n"
      "  stepq live --help\n"
      "Run 'stepq COMMAND --help' for the options of one command.");

  Common vc;
  bool validate_quiet = false;
  auto* validate = app.add_subcommand("validate", "Check a scenario; print each template's plan and prepare cost.");
  add_scenario_options(validate, vc);
  validate->add_flag("-q,--quiet", validate_quiet, "Print nothing: the exit status says whether the scenario is valid.");
  validate->footer(
      "Exit status 0 when the scenario is valid, 2 (with the file and JSON pointer) when not.\n"
      "Example:\n  stepq validate scenarios/skaha-basic.json\n"
      "  stepq validate scenarios/mm4.json --set /kinds/work/threads=3");

  Common sc;
  std::optional<std::uint64_t> seed, sessions;
  std::string json_out;
  bool quiet = false;
  std::vector<std::string> cfg;
  sim::ReplicationPlan reps;
  std::string warmup, trace_dir, report;
  auto* simulate = app.add_subcommand(
      "simulate", "Simulate a scenario (SimGrid): start-up p50/p95/p99 and per-kind queue waits.");
  add_scenario_options(simulate, sc);
  simulate->add_option("--seed", seed, "Random seed (default: the scenario's \"seed\", else 1). Same seed, same result.");
  simulate->add_option("--sessions", sessions, "Number of sessions to simulate (overrides \"sessions\"/\"duration_s\").")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.find_first_not_of("0123456789") == std::string::npos && v.find_first_not_of('0') != std::string::npos
                       ? std::string()
                       : "must be a positive integer (got " + v + ")";
          },
          "POSITIVE INTEGER"))
      ->type_name("N");
  simulate->add_option("--json", json_out, "Write the result JSON (DESIGN section 4) to FILE; '-' for stdout.")
      ->type_name("FILE");
  simulate->add_option("-r,--replications", reps.replications,
                       "Independent replications, each in its own process, with seeds derived from --seed.\n"
                       "Gives 95% confidence intervals (Student t). Default 1.")
      ->check(CLI::Range(1, 100000));
  simulate->add_option("-j,--jobs", reps.jobs, "Replications run at a time (default: the number of cores).")
      ->check(CLI::Range(1, 1024));
  simulate->add_option("--precision", reps.precision,
                       "Add replications until the 95% interval half-width of the mean and p95 start-up\n"
                       "is at most this fraction of the value (e.g. 0.03), or --max-replications.")
      ->check(CLI::Range(1e-6, 1.0));
  simulate->add_option("--max-replications", reps.max_replications, "Upper limit for --precision (default 100).")
      ->check(CLI::Range(2, 100000));
  simulate->add_option("--warmup", warmup,
                       "Sessions left out of the statistics at the start of each run (decided per run):\n"
                       "  auto   MSER-5's cut, kept only when the start is unlike the rest of the run, at\n"
                       "         most half of it (default for Poisson and periodic arrivals)\n"
                       "  mser5  MSER-5 alone, as published: cuts early high excursions of a steady run\n"
                       "         too, so it biases means low; for comparison\n"
                       "  none   keep everything (default for trace arrivals)\n"
                       "  N      the first N sessions")
      ->type_name("auto|mser5|none|N");
  simulate->add_option("--trace", trace_dir,
                       "Write DIR/sessions.csv (one row per session: arrival, start-up, outcome) and\n"
                       "DIR/steps.csv (one row per claim: ready, claimed, finished, wait, outcome).\n"
                       "Single runs only (not with --replications).")
      ->type_name("DIR");
  simulate->add_option("--report", report,
                       "Write a self-contained HTML report (charts; opens offline in any browser) to FILE:\n"
                       "start-up distribution, waits and utilization per pool, queue length over time.")
      ->type_name("FILE");
  simulate->add_flag("-q,--quiet", quiet,
                     "Print nothing but errors (use with --json or --report); no progress line either.\n"
                     "Colours: only on a terminal, never when NO_COLOR is set.");
  simulate->add_option("--cfg", cfg, "Pass a SimGrid setting through, e.g. --cfg contexts/factory:raw.")
      ->type_name("NAME:VALUE");
  simulate->footer(
      "Every session's steps are created DORMANT when it arrives; pool threads claim the oldest\n"
      "READY step of their kinds. Start-up = all steps COMPLETED - accepted.\n"
      "Examples:\n"
      "  stepq simulate scenarios/skaha-basic.json\n"
      "  stepq simulate scenarios/mm4.json --sessions 200000 --seed 7 --json r.json\n"
      "  stepq simulate scenarios/skaha-basic.json --report r.html --trace t/\n"
      "  stepq simulate scenarios/broker-today.json --set /pools/main/threads=4 --quiet --json -");

  Common ac;
  std::string analyze_json_out;
  bool analyze_quiet = false;
  auto* analyze = app.add_subcommand(
      "analyze", "Queueing-theory estimate in milliseconds: per-pool Erlang C waits, utilisation, verdicts.");
  add_scenario_options(analyze, ac);
  analyze->add_option("--json", analyze_json_out, "Write the analysis JSON to FILE ('-' for stdout).")->type_name("FILE");
  analyze->add_flag("-q,--quiet", analyze_quiet, "Print nothing but errors (use with --json).");
  analyze->footer(
      "Each pool is an M/M/c queue (Erlang C), corrected by Allen-Cunneen for non-exponential\n"
      "service (marked approximate); arrival rates per kind come from the traffic equations\n"
      "(I - P^T) lambda = gamma, counting retries, polls and re-checks. An unstable pool gets a\n"
      "verdict naming it and the threads it needs. Keys match `simulate --json` where they mean\n"
      "the same thing, so the two can be read side by side.\n"
      "Examples:\n"
      "  stepq analyze scenarios/mm4.json\n"
      "  stepq analyze scenarios/skaha-basic.json --set /arrivals/rate_per_s=0.05 --json a.json");

  auto tune = add_tune_command(app);
  auto live = add_live_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kBadInput;
  }

  if (auto status = run_tune_command(*tune)) return *status;
  if (auto status = run_live_commands(*live)) return *status;
  try {
    if (*validate) {
      const Scenario s = load(vc);
      if (!validate_quiet) print_validation(std::cout, s);
      return kOk;
    }
    if (*analyze) {
      const Scenario s = load(ac);
      return run_analyze(s, analyze_json_out, analyze_quiet, std::cout, std::cerr);
    }
    if (*simulate) {
      Scenario s = load(sc);
      if (seed) s.seed = *seed;
      if (sessions) s.sessions = *sessions, s.duration_s.reset();
      JsonOut out(json_out);
      check_report_path(report);
      sim::SimOptions opt;
      opt.progress = !quiet;
      opt.simgrid_cfg = cfg;
      try {
        opt.warmup = warmup.empty() ? default_warmup(s) : sim::Warmup::parse(warmup);
      } catch (const std::invalid_argument& e) {
        throw ScenarioError(std::string("--warmup: ") + e.what());
      }
      std::unique_ptr<CsvTrace> trace;
      if (!trace_dir.empty()) {
        if (reps.replications > 1 || reps.precision > 0)
          throw ScenarioError("--trace " + trace_dir + ": a trace is of one run; drop --replications/--precision");
        try {
          trace = std::make_unique<CsvTrace>(trace_dir, s);
        } catch (const std::exception& e) {
          throw ScenarioError(std::string("--trace: ") + e.what());
        }
        opt.trace = trace.get();
      }
      nlohmann::ordered_json result;
      try {
        if (reps.replications == 1 && reps.precision == 0)
          result = result_json(s, sim::run_simulation(s, opt));
        else
          result = sim::run_replications(s, opt, reps);
        if (trace) trace->close();
      } catch (const std::exception& e) {
        std::cerr << "stepq simulate: " << s.file << ": " << e.what() << "\n";
        return kRunFailed;
      }
      try {
        add_analytic(result, s, stepq::analyze(s));
      } catch (const std::invalid_argument&) {
        // No arrival rate to analyse (a trace at one instant): the simulation stands alone.
      }
      if (!quiet) {
        const TermStyle style = TermStyle::for_fd(1);
        print_summary(std::cout, result, style);
        print_comparison(std::cout, result, style);
      }
      try {
        out.write(result);
        if (!report.empty()) {
          write_simulation_report(report, s, result);
          if (!quiet) std::cout << "\nwrote " << report << " (open it in a browser; it needs no network)\n";
        }
      } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kRunFailed;
      }
      return kOk;
    }
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  }
  return kBadInput;
}

}  // namespace stepq
