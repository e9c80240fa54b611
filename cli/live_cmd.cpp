#include "live_cmd.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "backends/live/engine.hpp"
#include "backends/live/live_links.hpp"
#include "backends/live/open_store.hpp"
#include "backends/live/platforms.hpp"
#include "cli/command_errors.hpp"
#include "cli/db_option.hpp"
#include "cli/exit_codes.hpp"
#include "backends/postgres/pg.hpp"
#include "backends/sqlite/db.hpp"
#include "cli/report_file.hpp"
#include "cli/scenario_file.hpp"
#include "core/model_services.hpp"
#include "core/rng.hpp"
#include "reports/html_report.hpp"
#include "reports/live_status.hpp"
#include "reports/progress.hpp"
#include "reports/term_style.hpp"
#include "backends/local/local_services.hpp"

namespace stepq {

struct LiveCommands {
  CLI::App* live = nullptr;
  CLI::App *init = nullptr, *submit = nullptr, *run = nullptr, *status = nullptr, *cancel = nullptr;
  std::string db = "sqlite:stepq.db";
  std::string scenario;
  std::vector<std::string> sets;
  std::uint64_t sessions = 0;
  std::optional<double> rate;
  std::string platform = "emulated";
  std::string platforms;  // --platforms FILE
  double time_scale = 1;
  bool until_idle = false;
  std::optional<double> for_s;
  live::LiveOptions opt;
  std::string json_out, report;
  bool quiet = false;
  std::uint64_t session_id = 0;
};

namespace {

void add_db(CLI::App* c, LiveCommands& l) { add_db_option(c, l.db); }

void add_scenario(CLI::App* c, LiveCommands& l) {
  c->add_option("SCENARIO", l.scenario, "Scenario file (kinds, pools, templates; see docs/scenarios.md).")->required();
  c->add_option("--set", l.sets, "Override one scenario field: JSON pointer = value. Repeatable.")
      ->type_name("PTR=VALUE");
}

Scenario load(const LiveCommands& l) {
  std::vector<Override> ov;
  for (const auto& s : l.sets) ov.push_back(parse_override(s));
  return load_scenario_file(l.scenario, ov);
}

int do_init(LiveCommands& l) {
  auto store = live::open_store(l.db, true);
  const int before = store->schema_version();
  const int applied = store->migrate();
  if (!l.quiet)
    std::cout << l.db << ": schema version " << before + applied
              << (applied ? " (applied " + std::to_string(applied) + " migration" + (applied > 1 ? "s" : "") + ")"
                          : " (already current)")
              << "\n";
  return kOk;
}

int do_submit(LiveCommands& l) {
  const Scenario sc = load(l);
  auto store = live::open_store(l.db, false);
  store->bind(sc, 1);
  const auto sub = store->begin_submission(l.sessions);
  // Arrivals as in the simulator (same stream), at --rate sessions per wall second.
  Stream arrivals(derive(sc.seed, static_cast<std::uint64_t>(Purpose::arrivals)));
  const bool periodic = sc.arrivals.process == ArrivalSpec::Process::periodic;
  // Only paced submissions take long enough to need a progress line.
  Progress progress("submitting", "sessions", l.sessions, l.rate.has_value() && !l.quiet);
  const auto t0 = std::chrono::steady_clock::now();
  double t = 0, last_report = 0;
  std::uint64_t first = 0, last = 0;
  // Unpaced, sessions go in batches (the store's transactions may hold many: PostgreSQL's do).
  const std::uint64_t batch = l.rate ? 1 : 1024;
  for (std::uint64_t i = 0; i < l.sessions;) {
    if (l.rate) {
      t = periodic ? static_cast<double>(i) / *l.rate : t - std::log(arrivals.uniform()) / *l.rate;
      std::this_thread::sleep_until(
          t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(t)));
    }
    const std::uint64_t k = std::min(batch, l.sessions - i);
    const std::uint64_t id = store->submit_sessions(k);
    if (i == 0) first = id;
    last = id + k - 1;
    i += k;
    progress.update(i);
    if (l.rate && t - last_report >= 0.5) {
      store->submission_progress(sub, i, false);
      last_report = t;
    }
  }
  store->submission_progress(sub, l.sessions, true);
  progress.done();
  if (!l.quiet)
    std::cout << "submitted " << l.sessions << " session" << (l.sessions == 1 ? "" : "s") << " (ids " << first << ".."
              << last << ") to " << l.db << "\n";
  return kOk;
}

// What names the database for the platforms file's default instance: a SQLite file's absolute
// path, a PostgreSQL URL without its password (the instance is printed in external names).
std::string db_identity(const std::string& db) {
  if (db.rfind("sqlite:", 0) == 0) {
    std::string path = db.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    std::error_code ec;
    const auto abs = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
    return "sqlite:" + (ec ? path : abs.string());
  }
  const auto scheme = db.find("://"), at = db.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return db;
  const auto colon = db.find(':', scheme + 3);
  return colon < at ? db.substr(0, colon) + db.substr(at) : db;
}

int do_run(LiveCommands& l) {
  const Scenario sc = load(l);
  std::optional<live::Platforms> platforms;
  if (!l.platforms.empty()) {
    if (l.platform != "emulated")
      throw ScenarioError("--platforms " + l.platforms + ": the file names the platform; drop --platform " +
                          l.platform);
    platforms = live::load_platforms(l.platforms, sc, db_identity(l.db));
    l.platform = platforms->default_adapter;
  }
  if (l.platform != "emulated" && l.platform != "local")
    throw live::StoreError("--platform " + l.platform + ": expected emulated or local");
  if (l.platform == "local" && l.time_scale != 1)
    throw live::StoreError("--time-scale: only the emulated platform scales time (local work takes what it takes)");
  if (l.platform == "local") {  // what this machine cannot do, said before anything runs
    for (std::size_t t = 0; t < sc.templates.size(); ++t)
      if (sc.templates[t].clustered())
        throw ScenarioError(l.scenario + ": /templates/" + std::to_string(t) +
                            "/session/cluster: clusters are modelled by the emulated platform; the local platform runs "
                            "sessions on this machine (use --platform emulated, or drop the cluster)");
    for (const auto& k : sc.kinds)
      if (k.op == Op::pushback)
        throw ScenarioError(l.scenario + ": /kinds/" + k.name +
                            ": op \"pushback\" has nowhere to push output to on the local platform (use --platform "
                            "emulated)");
  }
  // A rule's state and a link's FTS slots are the emulated platform's (live_links.hpp): a real
  // adapter stages its own way, and would take the rule for a synchronous copy.
  for (std::size_t k = 0; k < sc.kinds.size(); ++k) {
    const std::string adapter = platforms ? platforms->kinds[k].adapter : l.platform;
    if (sc.kinds[k].rule && adapter != "emulated")
      throw ScenarioError(l.scenario + ": /kinds/" + sc.kinds[k].name +
                          "/rule: asynchronous rules are modelled by the "
                          "emulated platform only; kind '" +
                          sc.kinds[k].name + "' runs on the " + adapter +
                          " adapter (drop \"rule\" to stage synchronously, or run the kind emulated)");
  }
  // A lease's step runs while its session runs, not after a predecessor: the stores have no phase
  // for that yet, so only the simulator runs it.
  for (std::size_t t = 0; t < sc.templates.size(); ++t)
    if (sc.templates[t].lease)
      throw ScenarioError(l.scenario + ": /templates/" + std::to_string(t) +
                          "/lease: lease extension is simulated "
                          "only; the live engine cannot yet run a step while its session runs (drop \"lease\" to run "
                          "live)");
  // A count's copies beyond a session's draw are skipped by the modelled platform only; a real
  // adapter would run every copy (the same dataset, the same name) as often as the plan holds it.
  for (std::size_t t = 0; t < sc.templates.size(); ++t)
    for (const auto& ps : sc.templates[t].steps) {
      const std::string adapter = platforms ? platforms->kinds[ps.kind].adapter : l.platform;
      if (ps.first_copy >= 0 && adapter != "emulated")
        throw ScenarioError(l.scenario + ": /templates/" + std::to_string(t) + ": step '" + ps.id +
                            "': \"count\" is "
                            "modelled by the emulated platform only; kind '" +
                            sc.kinds[ps.kind].name + "' runs on the " + adapter +
                            " adapter (write the items out one by one)");
    }
  auto store = live::open_store(l.db, false);
  store->bind(sc, l.time_scale);
  l.opt.time_scale = l.time_scale;
  l.opt.until_idle = l.until_idle;
  l.opt.for_s = l.for_s;
  l.opt.quiet = l.quiet;
  live::ServicesFactory make;
  live::LiveStore* capacity = store.get();  // the clusters and quotas live in the database
  // So do the links: transfers of every process share them (without routes nothing moves).
  std::unique_ptr<live::LiveLinks> links;
  if (!sc.platform.routes.empty() && (platforms ? platforms->uses("emulated") : l.platform == "emulated"))
    links = std::make_unique<live::LiveLinks>(*store, l.time_scale);
  Transfers* transfers = links.get();
  if (platforms) {
    const live::Platforms& p = *platforms;
    make = [&p, &sc, capacity, transfers](Clock& c) -> std::unique_ptr<Services> {
      return live::route(p, std::make_unique<ModelServices>(c, capacity, transfers),
                         p.uses("local") ? std::make_unique<local::LocalServices>(sc) : nullptr);
    };
  } else if (l.platform == "emulated") {
    make = [capacity, transfers](Clock& c) -> std::unique_ptr<Services> {
      return std::make_unique<ModelServices>(c, capacity, transfers);
    };
  } else {
    make = [&sc](Clock&) -> std::unique_ptr<Services> { return std::make_unique<local::LocalServices>(sc); };
  }
  const live::LiveSummary s = live::run_live(*store, sc, make, l.opt);
  if (!l.quiet || s.stopped_by.rfind("error", 0) == 0) std::cerr << live::describe(s) << "\n";
  return s.stopped_by.rfind("error", 0) == 0 ? kRunFailed : kOk;
}

int do_status(LiveCommands& l) {
  check_report_path(l.report);
  auto store = live::open_store(l.db, false);
  const auto j = live_status_json(store->status(), l.time_scale);
  if (!l.quiet && l.json_out != "-") print_live_status(std::cout, j, TermStyle::for_fd(1));
  if (l.json_out == "-") {
    std::cout << j.dump(2) << "\n";
  } else if (!l.json_out.empty()) {
    std::ofstream f(l.json_out);
    f << j.dump(2) << "\n";
    if (!f) throw live::StoreError("--json " + l.json_out + ": cannot write the file");
  }
  if (!l.report.empty()) {
    try {
      write_live_report(l.report, l.db, j);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return kRunFailed;
    }
    if (!l.quiet && l.json_out != "-")
      std::cout << "\nwrote " << l.report << " (open it in a browser; it needs no network)\n";
  }
  return kOk;
}

int do_cancel(LiveCommands& l) {
  auto store = live::open_store(l.db, false);
  const auto r = store->cancel_session(l.session_id);
  if (r.what == live::CancelResult::What::already_finished) {
    std::cerr << "session " << l.session_id << " is already " << r.phase << "; nothing to cancel\n";
    return kRunFailed;
  }
  if (!l.quiet)
    std::cout << "session " << l.session_id << " CANCELLED (" << r.steps << " unfinished step"
              << (r.steps == 1 ? "" : "s") << " cancelled; a running one finishes but its result is dropped)\n";
  return kOk;
}

}  // namespace

std::shared_ptr<LiveCommands> add_live_commands(CLI::App& app) {
  auto l = std::make_shared<LiveCommands>();
  l->live = app.add_subcommand(
      "live", "Run the preparation engine for real: a step queue in SQLite or PostgreSQL, worker pools.");
  l->live->require_subcommand(1);
  l->live->footer(
      "A typical session:\n"
      "  stepq live init\n"
      "  stepq live submit scenarios/local-demo.json --sessions 20\n"
      "  stepq live run scenarios/local-demo.json --platform local --until-idle\n"
      "  stepq live status\n"
      "Several `live run` processes may share one database; each registers as a processor and\n"
      "heartbeats, and the steps of a processor that stops heartbeating are run again elsewhere.");

  l->init = l->live->add_subcommand("init", "Create the database, or migrate it to this stepq's schema.");
  add_db(l->init, *l);
  l->init->add_flag("-q,--quiet", l->quiet, "Print nothing but errors.");
  l->init->footer("Example:\n  stepq live init --db sqlite:/var/lib/stepq/steps.db");

  l->submit =
      l->live->add_subcommand("submit", "Accept sessions: each session's plan in one transaction, roots READY.");
  add_db(l->submit, *l);
  add_scenario(l->submit, *l);
  l->submit->add_option("--sessions", l->sessions, "How many sessions to submit.")
      ->required()
      ->check(CLI::Range(1ull, 100000000ull));
  l->submit
      ->add_option("--rate", l->rate,
                   "Submit over real time, R sessions per second (the scenario's arrival process: Poisson,\n"
                   "or periodic), instead of all at once.")
      ->check(CLI::PositiveNumber)
      ->type_name("R");
  l->submit->add_flag("-q,--quiet", l->quiet,
                      "Print nothing but errors; no progress line (shown with --rate on a terminal).");
  l->submit->footer(
      "Templates are chosen per session as in `stepq simulate` (same seed, same choice).\n"
      "Example:\n  stepq live submit scenarios/skaha-basic.json --sessions 200 --rate 2");

  l->run = l->live->add_subcommand("run", "Be a worker process: one thread pool per pool in the scenario.");
  add_db(l->run, *l);
  add_scenario(l->run, *l);
  l->run
      ->add_option("--platform", l->platform,
                   "emulated: each operation sleeps its sampled service time (the scenario's distributions,\n"
                   "the simulator's random streams) and fails with its failure probability.\n"
                   "local: real work here: directories, downloads, processes (docs/scenarios.md).")
      ->check(CLI::IsMember({"emulated", "local"}));
  l->run
      ->add_option("--platforms", l->platforms,
                   "A platforms file (JSON): the adapter of each kind, e.g. the image\n"
                   "kind against a real OCI registry; kinds it does not list run on its\n"
                   "\"default\" (emulated). Instead of --platform. See docs/platforms.md.")
      ->type_name("FILE");
  l->run
      ->add_option("--time-scale", l->time_scale,
                   "Emulated platform: wall seconds per scenario second, e.g. 0.01 runs 100x faster than real.\n"
                   "Poll intervals, back-offs and service times all scale. Default 1.")
      ->check(CLI::Range(1e-6, 1e6));
  auto* idle = l->run->add_flag("--until-idle", l->until_idle,
                                "Stop once no session is unfinished and no `live submit` is still running\n"
                                "(for one second in a row, so a submit started at the same time is seen).");
  l->run->add_option("--for", l->for_s, "Stop after this many seconds.")
      ->check(CLI::PositiveNumber)
      ->type_name("SECONDS")
      ->excludes(idle);
  l->run
      ->add_option("--lease", l->opt.lease_s,
                   "A processor silent this many seconds is dead: its running steps go back to READY.")
      ->check(CLI::Range(0.05, 86400.0));
  l->run->add_option("--heartbeat", l->opt.heartbeat_s, "Seconds between heartbeats (and reaper passes). Default 1.")
      ->check(CLI::Range(0.01, 3600.0));
  l->run
      ->add_option("--grace", l->opt.grace_s,
                   "After SIGINT/SIGTERM, seconds running steps may take before they are released. Default 30.")
      ->check(CLI::Range(0.0, 86400.0));
  l->run->add_flag("-q,--quiet", l->quiet, "Print nothing but errors.");
  l->run->footer(
      "Without --until-idle or --for it runs until SIGINT/SIGTERM: then it claims nothing more, lets\n"
      "running steps finish (--grace; a second signal cuts it short), puts any still running back\n"
      "to READY, and exits 0.\n"
      "Examples:\n"
      "  stepq live run scenarios/local-demo.json --platform local --until-idle\n"
      "  stepq live run scenarios/skaha-basic.json --time-scale 0.01 --for 60");

  l->status =
      l->live->add_subcommand("status", "Sessions, steps by kind and phase, observed start-up and waits, processors.");
  add_db(l->status, *l);
  l->status->add_option("--json", l->json_out, "Write the status as JSON to FILE ('-' for stdout).")->type_name("FILE");
  l->status
      ->add_option("--time-scale", l->time_scale,
                   "Divide durations by this (the --time-scale of an emulated run) to read them in\n"
                   "scenario seconds, comparable with `stepq simulate`.")
      ->check(CLI::Range(1e-6, 1e6));
  l->status
      ->add_option("--report", l->report,
                   "Write a self-contained HTML report to FILE: start-up distribution, waits, and READY\n"
                   "steps and busy workers over time per kind, from the execution log (opens offline).")
      ->type_name("FILE");
  l->status->add_flag("-q,--quiet", l->quiet, "With --json FILE or --report FILE: print nothing else.");

  l->cancel = l->live->add_subcommand("cancel", "Cancel a session and its unfinished steps.");
  add_db(l->cancel, *l);
  l->cancel->add_option("SESSION", l->session_id, "Session id (see `stepq live status`).")->required();
  l->cancel->add_flag("-q,--quiet", l->quiet, "Print nothing but errors.");
  return l;
}

std::optional<int> run_live_commands(LiveCommands& l) {
  if (!*l.live) return std::nullopt;
  const char* cmd = *l.init ? "init" : *l.submit ? "submit" : *l.run ? "run" : *l.status ? "status" : "cancel";
  try {
    if (*l.init) return do_init(l);
    if (*l.submit) return do_submit(l);
    if (*l.run) return do_run(l);
    if (*l.status) return do_status(l);
    if (*l.cancel) return do_cancel(l);
  } catch (...) {
    return command_error_status(std::string("live ") + cmd);
  }
  return kBadInput;
}

}  // namespace stepq
