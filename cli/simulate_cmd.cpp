#include "cli/simulate_cmd.hpp"

#include <fstream>
#include <iostream>

#include "cli/analyze_cmd.hpp"
#include "cli/exit_codes.hpp"
#include "cli/report_file.hpp"
#include "cli/scenario_file.hpp"
#include "core/analytic.hpp"
#include "reports/comparison.hpp"
#include "reports/html_report.hpp"
#include "reports/result_json.hpp"
#include "reports/summary_table.hpp"
#include "reports/term_style.hpp"
#include "reports/trace_csv.hpp"
#include "sim/replications.hpp"
#include "sim/simulation.hpp"

namespace stepq {

namespace {

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

struct SimulateCommand {
  CLI::App* cmd = nullptr;
  ScenarioArgs args;
  std::optional<std::uint64_t> seed, sessions;
  std::string json_out;
  bool quiet = false;
  std::vector<std::string> cfg;
  sim::ReplicationPlan reps;
  std::string warmup, trace_dir, report;
};

std::shared_ptr<SimulateCommand> add_simulate_command(CLI::App& app) {
  auto c = std::make_shared<SimulateCommand>();
  auto* simulate = c->cmd =
      app.add_subcommand("simulate", "Simulate a scenario (SimGrid): start-up p50/p95/p99 and per-kind queue waits.");
  add_scenario_args(simulate, c->args);
  simulate->add_option("--seed", c->seed,
                       "Random seed (default: the scenario's \"seed\", else 1). Same seed, same result.");
  simulate
      ->add_option("--sessions", c->sessions, "Number of sessions to simulate (overrides \"sessions\"/\"duration_s\").")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.find_first_not_of("0123456789") == std::string::npos &&
                           v.find_first_not_of('0') != std::string::npos
                       ? std::string()
                       : "must be a positive integer (got " + v + ")";
          },
          "POSITIVE INTEGER"))
      ->type_name("N");
  simulate->add_option("--json", c->json_out, "Write the result JSON (DESIGN section 4) to FILE; '-' for stdout.")
      ->type_name("FILE");
  simulate
      ->add_option("-r,--replications", c->reps.replications,
                   "Independent replications, each in its own process, with seeds derived from --seed.\n"
                   "Gives 95% confidence intervals (Student t). Default 1.")
      ->check(CLI::Range(1, 100000));
  simulate->add_option("-j,--jobs", c->reps.jobs, "Replications run at a time (default: the number of cores).")
      ->check(CLI::Range(1, 1024));
  simulate
      ->add_option("--precision", c->reps.precision,
                   "Add replications until the 95% interval half-width of the mean and p95 start-up\n"
                   "is at most this fraction of the value (e.g. 0.03), or --max-replications.")
      ->check(CLI::Range(1e-6, 1.0));
  simulate->add_option("--max-replications", c->reps.max_replications, "Upper limit for --precision (default 100).")
      ->check(CLI::Range(2, 100000));
  simulate
      ->add_option("--warmup", c->warmup,
                   "Sessions left out of the statistics at the start of each run (decided per run):\n"
                   "  auto   MSER-5's cut, kept only when the start is unlike the rest of the run, at\n"
                   "         most half of it (default for Poisson and periodic arrivals)\n"
                   "  mser5  MSER-5 alone, as published: cuts early high excursions of a steady run\n"
                   "         too, so it biases means low; for comparison\n"
                   "  none   keep everything (default for trace arrivals)\n"
                   "  N      the first N sessions")
      ->type_name("auto|mser5|none|N");
  simulate
      ->add_option("--trace", c->trace_dir,
                   "Write DIR/sessions.csv (one row per session: arrival, start-up, outcome) and\n"
                   "DIR/steps.csv (one row per claim: ready, claimed, finished, wait, outcome).\n"
                   "Single runs only (not with --replications).")
      ->type_name("DIR");
  simulate
      ->add_option("--report", c->report,
                   "Write a self-contained HTML report (charts; opens offline in any browser) to FILE:\n"
                   "start-up distribution, waits and utilization per pool, queue length over time.")
      ->type_name("FILE");
  simulate->add_flag("-q,--quiet", c->quiet,
                     "Print nothing but errors (use with --json or --report); no progress line either.\n"
                     "Colours: only on a terminal, never when NO_COLOR is set.");
  simulate->add_option("--cfg", c->cfg, "Pass a SimGrid setting through, e.g. --cfg contexts/factory:raw.")
      ->type_name("NAME:VALUE");
  simulate->footer(
      "Every session's steps are created DORMANT when it arrives; pool threads claim the oldest\n"
      "READY step of their kinds. Start-up = all steps COMPLETED - accepted.\n"
      "Examples:\n"
      "  stepq simulate scenarios/skaha-basic.json\n"
      "  stepq simulate scenarios/mm4.json --sessions 200000 --seed 7 --json r.json\n"
      "  stepq simulate scenarios/skaha-basic.json --report r.html --trace t/\n"
      "  stepq simulate scenarios/broker-today.json --set /pools/main/threads=4 --quiet --json -");
  return c;
}

std::optional<int> run_simulate_command(SimulateCommand& c) {
  if (!*c.cmd) return std::nullopt;
  try {
    Scenario s = load_scenario(c.args);
    if (c.seed) s.seed = *c.seed;
    if (c.sessions) s.sessions = *c.sessions, s.duration_s.reset();
    JsonOut out(c.json_out);
    check_report_path(c.report);
    sim::SimOptions opt;
    opt.progress = !c.quiet;
    opt.simgrid_cfg = c.cfg;
    try {
      opt.warmup = c.warmup.empty() ? default_warmup(s) : sim::Warmup::parse(c.warmup);
    } catch (const std::invalid_argument& e) {
      throw ScenarioError(std::string("--warmup: ") + e.what());
    }
    std::unique_ptr<CsvTrace> trace;
    if (!c.trace_dir.empty()) {
      if (c.reps.replications > 1 || c.reps.precision > 0)
        throw ScenarioError("--trace " + c.trace_dir + ": a trace is of one run; drop --replications/--precision");
      try {
        trace = std::make_unique<CsvTrace>(c.trace_dir, s);
      } catch (const std::exception& e) {
        throw ScenarioError(std::string("--trace: ") + e.what());
      }
      opt.trace = trace.get();
    }
    nlohmann::ordered_json result;
    try {
      if (c.reps.replications == 1 && c.reps.precision == 0) result = result_json(s, sim::run_simulation(s, opt));
      else result = sim::run_replications(s, opt, c.reps);
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
    if (!c.quiet) {
      const TermStyle style = TermStyle::for_fd(1);
      print_summary(std::cout, result, style);
      print_comparison(std::cout, result, style);
    }
    try {
      out.write(result);
      if (!c.report.empty()) {
        write_simulation_report(c.report, s, result);
        if (!c.quiet) std::cout << "\nwrote " << c.report << " (open it in a browser; it needs no network)\n";
      }
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return kRunFailed;
    }
    return kOk;
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  }
}

}  // namespace stepq
