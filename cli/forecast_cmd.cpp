#include "cli/forecast_cmd.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "backends/live/open_store.hpp"
#include "backends/live/store.hpp"
#include "cli/command_errors.hpp"
#include "cli/db_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/report_file.hpp"
#include "cli/scenario_file.hpp"
#include "reports/html_report.hpp"
#include "sim/forecast.hpp"

namespace stepq {

namespace {

using ojson = nlohmann::ordered_json;

// Linear interpolation between order statistics (Hyndman & Fan type 7, R's default); NaN (a
// failed start-up) left out. NaN when nothing is left.
double quantile(std::vector<double> v, double p) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double h = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double failed_fraction(const std::vector<double>& v) {
  const auto n = std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); });
  return v.empty() ? 0 : static_cast<double>(n) / static_cast<double>(v.size());
}

ojson number(double v) { return std::isnan(v) ? ojson(nullptr) : ojson(v); }

// What a snapshot of the database does not capture: refused, not guessed.
void require_forecastable(const Scenario& sc, const std::string& path) {
  for (std::size_t t = 0; t < sc.templates.size(); ++t)
    if (sc.templates[t].lease)
      throw ScenarioError("--scenario " + path + ": /templates/" + std::to_string(t) + "/lease: forecast does not " +
                          "restore leases (nor does `stepq live run` run them); drop \"lease\" to forecast the rest");
}

// The live queue in model seconds relative to its `now`, kinds and templates as the scenario's.
QueueSnapshot to_snapshot(const live::QueueState& q, const Scenario& sc, double scale, const std::string& path) {
  QueueSnapshot snap;
  snap.next_index = q.next_id;
  const auto rel = [&](double wall) { return std::isnan(wall) ? wall : (wall - q.now) / scale; };
  for (const auto& in : q.sessions) {
    QueueSnapshot::Session s;
    s.index = in.id;
    s.tmpl = -1;
    for (std::size_t t = 0; t < sc.templates.size(); ++t)
      if (sc.templates[t].name == in.tmpl) s.tmpl = static_cast<int>(t);
    if (s.tmpl < 0)
      throw ScenarioError("--scenario " + path + ": the database has a session of template '" + in.tmpl +
                          "', which this scenario lacks; give the scenario the engine ran, or one calibrated from it");
    const TemplateSpec& tp = sc.templates[static_cast<std::size_t>(s.tmpl)];
    if (in.steps.size() != tp.steps.size())
      throw ScenarioError("--scenario " + path + ": template '" + in.tmpl + "' has " + std::to_string(tp.steps.size()) +
                          " steps here but " + std::to_string(in.steps.size()) + " in the database (session " +
                          std::to_string(in.id) + ")");
    s.accepted = rel(in.created_at);
    s.started_at = rel(in.started_at);
    s.ended = in.ended;
    using State = QueueSnapshot::Compute::State;
    s.compute.state = in.compute == "queued"     ? State::queued
                      : in.compute == "placed"   ? State::placed
                      : in.compute == "released" ? State::released
                                                 : State::none;
    s.compute.cores = in.cores, s.compute.memory_GB = in.memory_GB, s.compute.user = in.owner;
    s.compute.node = in.node;
    s.compute.submitted_at = rel(in.submitted_at);
    s.compute.admitted_at = rel(in.admitted_at);
    s.compute.running_at = rel(in.running_at);
    for (const auto& [area, bytes] : in.temp) {
      const int a = sc.platform.area_index(area);
      if (a >= 0) s.temp.emplace_back(a, bytes);
    }
    for (const auto& st : in.steps) {
      const std::string& want =
          sc.kinds[static_cast<std::size_t>(tp.steps[static_cast<std::size_t>(st.num)].kind)].name;
      if (st.kind != want)
        throw ScenarioError("--scenario " + path + ": step " + std::to_string(st.num) + " of template '" + in.tmpl +
                            "' is of kind '" + want + "' here but '" + st.kind + "' in the database (session " +
                            std::to_string(in.id) + "); give the scenario the engine ran, or one calibrated from it");
      QueueSnapshot::Step x;
      x.phase = static_cast<Phase>(st.phase);
      x.attempt = st.attempt;
      x.activated_at = rel(st.activated_at);
      x.ready_at = rel(st.ready_at);
      x.claimed_at = rel(st.claimed_at);
      x.due = rel(st.not_before);
      // A poll's clock starts at activation, or on a cluster at admission (a look while the session
      // was Pending says nothing of its ready time).
      const double origin = tp.clustered() ? in.admitted_at : st.activated_at;
      if (!std::isnan(st.last_not_ready) && !std::isnan(origin))
        x.not_ready_after = std::max(0.0, (st.last_not_ready - origin) / scale);
      s.steps.push_back(x);
    }
    snap.sessions.push_back(std::move(s));
  }
  for (const auto& t : q.transfers) {
    if (t.route < 0 || static_cast<std::size_t>(t.route) >= sc.platform.routes.size())
      throw ScenarioError("--scenario " + path + ": the database has a transfer over route " + std::to_string(t.route) +
                          ", which this scenario lacks; give the scenario the engine ran");
    // Phase 0: a rule still in its delay, due at `at`.
    snap.transfers.push_back({t.session, t.num, t.attempt, t.route, t.left_bytes,
                              t.phase == 0 ? std::max(0.0, (t.at - q.now) / scale) : 0.0});
  }
  if (!sc.platform.areas.empty()) {  // the areas' free bytes now; an area the database lacks is whole
    for (const auto& a : sc.platform.areas) snap.area_free.push_back(a.quota_bytes);
    for (const auto& [name, free] : q.area_free) {
      const int a = sc.platform.area_index(name);
      if (a >= 0) snap.area_free[static_cast<std::size_t>(a)] = free;
    }
  }
  return snap;
}

std::string fmt(double v) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

}  // namespace

struct ForecastCommand {
  CLI::App* cmd = nullptr;
  std::string db = "sqlite:stepq.db", scenario, tmpl, json_out, report;
  double time_scale = 1;
  int rows = 20;
  sim::ForecastPlan plan;
  bool quiet = false, record = false, scenario_threads = false;
};

std::shared_ptr<ForecastCommand> add_forecast_command(CLI::App& app) {
  auto c = std::make_shared<ForecastCommand>();
  c->cmd = app.add_subcommand("forecast",
                              "Predict each in-flight session's start-up, and a new one's, from the live queue.");
  add_db_option(c->cmd, c->db);
  c->cmd
      ->add_option("--scenario", c->scenario,
                   "The model to run forward: the scenario `stepq calibrate` fitted to this\n"
                   "database, or the one the engine ran.")
      ->required()
      ->type_name("FILE");
  c->cmd->add_option("--template", c->tmpl, "The new session's template (default: the scenario's first).")
      ->type_name("NAME");
  c->cmd->add_option("-r,--replications", c->plan.replications, "Simulations run forward (default 40).")
      ->check(CLI::Range(2, 100000));
  c->cmd->add_option("-j,--jobs", c->plan.jobs, "Replications run at a time (default: the number of cores).")
      ->check(CLI::NonNegativeNumber);
  add_log_time_scale_option(c->cmd, c->time_scale);
  c->cmd->add_option("--json", c->json_out, "Write the forecast as JSON to FILE ('-' for stdout).")->type_name("FILE");
  c->cmd->add_option("--rows", c->rows, "Sessions listed in the table (default 20; the JSON has all).")
      ->check(CLI::NonNegativeNumber);
  c->cmd->add_option("--report", c->report, "Write an HTML report with the fan chart to FILE (opens offline).")
      ->type_name("FILE");
  c->cmd->add_flag("--scenario-threads", c->scenario_threads,
                   "Size the pools as the scenario does, not as the processors running now do.");
  c->cmd->add_flag("--record", c->record,
                   "Store each session's forecast in the database: `stepq live\n"
                   "status` then sets what happened beside it.");
  c->cmd->add_flag("-q,--quiet", c->quiet, "Print nothing but errors (with --json FILE).");
  c->cmd->footer(
      "The simulation starts from the step table as it is now: READY steps queue in the order they\n"
      "became READY, RUNNING ones run on for their service drawn beyond the time they have run,\n"
      "WAITING ones wake when due, a poll's ready time lies beyond its last look. A new session of\n"
      "--template is submitted now and arrivals continue at the scenario's rate. Pools have the\n"
      "threads of the processors running now (--scenario-threads: the scenario's). Each replication\n"
      "runs until every session in start-up, and the new one, has started or failed.\n"
      "Start-up quantiles are from acceptance, in scenario seconds; `ready_by` in the JSON is the\n"
      "wall-clock time (Unix seconds). The queue-blind estimate is the broker's prepare cost.\n"
      "Example:\n"
      "  stepq calibrate --db sqlite:stepq.db --scenario scenarios/local-demo.json -o fitted.json\n"
      "  stepq forecast --db sqlite:stepq.db --scenario fitted.json");
  return c;
}

std::optional<int> run_forecast_command(ForecastCommand& c) {
  if (!*c.cmd) return std::nullopt;
  try {
    const Scenario sc = load_scenario_file(c.scenario);
    require_forecastable(sc, c.scenario);
    if (!c.tmpl.empty()) {
      c.plan.probe_tmpl = -1;
      std::string names;
      for (std::size_t t = 0; t < sc.templates.size(); ++t) {
        if (sc.templates[t].name == c.tmpl) c.plan.probe_tmpl = static_cast<int>(t);
        names += (t ? ", " : "") + sc.templates[t].name;
      }
      if (c.plan.probe_tmpl < 0)
        throw ScenarioError("--template " + c.tmpl + ": not a template of " + c.scenario + " (it has " + names + ")");
    }
    check_report_path(c.report);
    if (!c.json_out.empty() && c.json_out != "-") {
      std::ofstream probe(c.json_out, std::ios::app);
      if (!probe) throw ScenarioError("--json " + c.json_out + ": cannot open the file for writing");
    }
    auto store = live::open_store(c.db, false);
    const live::QueueState q = store->queue_state();
    // The queue drains at the pace of the threads running now, not of the scenario's guess.
    Scenario run = sc;
    std::string threads = "as in " + c.scenario;
    if (!c.scenario_threads && !q.running_pools.empty()) {
      std::map<std::string, int> live;
      for (const auto& pools : q.running_pools)
        for (const auto& [pool, n] : live::pool_threads(pools)) live[pool] += n;
      for (auto& pool : run.pools)
        if (live.count(pool.name)) pool.threads = std::max(1, live[pool.name]);
      threads = "from the " + std::to_string(q.running_pools.size()) + " processor(s) running now";
    }
    const QueueSnapshot snap = to_snapshot(q, run, c.time_scale, c.scenario);
    c.plan.progress = !c.quiet;
    const sim::Forecast f = sim::run_forecast(run, snap, c.plan);

    const TemplateSpec& probe_tp = sc.templates[static_cast<std::size_t>(c.plan.probe_tmpl)];
    ojson out;
    out["db"] = c.db;
    out["at"] = q.now;
    out["time_scale"] = c.time_scale;
    out["scenario"] = c.scenario;
    out["replications"] = c.plan.replications;
    out["threads"] = {{"from", threads}, {"pools", ojson::object()}};
    for (const auto& pool : run.pools) out["threads"]["pools"][pool.name] = pool.threads;
    out["new_session"] = {{"template", probe_tp.name},
                          {"startup_s",
                           {{"p05", number(quantile(f.probe, 0.05))},
                            {"p25", number(quantile(f.probe, 0.25))},
                            {"p50", number(quantile(f.probe, 0.5))},
                            {"p75", number(quantile(f.probe, 0.75))},
                            {"p95", number(quantile(f.probe, 0.95))},
                            {"p99", number(quantile(f.probe, 0.99))}}},
                          {"failed_fraction", failed_fraction(f.probe)},
                          {"queue_blind_s", probe_tp.total_prepare_cost_s}};
    ojson samples = ojson::array();  // one per replication, sorted (null: failed there)
    std::vector<double> sorted = f.probe;
    std::sort(sorted.begin(), sorted.end(), [](double a, double b) {  // NaN (failed) last
      return !std::isnan(a) && (std::isnan(b) || a < b);
    });
    for (double x : sorted) samples.push_back(number(x));
    out["new_session"]["samples_s"] = samples;
    ojson sessions = ojson::array();
    std::vector<live::ForecastRecord> records;
    std::size_t past = 0;
    for (std::size_t i = 0; i < snap.sessions.size(); ++i) {
      const auto& s = snap.sessions[i];
      if (f.startup[i].empty()) {
        ++past;
        continue;
      }
      const double p50 = quantile(f.startup[i], 0.5), p95 = quantile(f.startup[i], 0.95);
      const double accepted_wall = q.sessions[i].created_at;
      records.push_back({s.index, q.now, accepted_wall + p50 * c.time_scale, accepted_wall + p95 * c.time_scale,
                         sc.templates[static_cast<std::size_t>(s.tmpl)].total_prepare_cost_s, c.time_scale});
      sessions.push_back(
          {{"id", s.index},
           {"template", sc.templates[static_cast<std::size_t>(s.tmpl)].name},
           {"accepted_at", accepted_wall},
           {"age_s", -s.accepted},
           {"startup_s",
            {{"p05", number(quantile(f.startup[i], 0.05))},
             {"p25", number(quantile(f.startup[i], 0.25))},
             {"p50", number(p50)},
             {"p75", number(quantile(f.startup[i], 0.75))},
             {"p95", number(p95)}}},
           {"ready_by",
            {{"p50", number(accepted_wall + p50 * c.time_scale)}, {"p95", number(accepted_wall + p95 * c.time_scale)}}},
           {"failed_fraction", failed_fraction(f.startup[i])}});
    }
    if (c.record) store->record_forecast(records);
    out["in_startup"] = sessions.size();
    out["past_startup"] = past;
    out["sessions"] = std::move(sessions);
    if (!c.report.empty()) write_forecast_report(c.report, out);

    if (c.json_out == "-") {
      std::cout << out.dump(2) << "\n";
    } else if (!c.json_out.empty()) {
      std::ofstream jf(c.json_out);
      jf << out.dump(2) << "\n";
      if (!jf) throw ScenarioError("--json " + c.json_out + ": cannot write the file");
    }
    if (!c.quiet && c.json_out != "-") {
      const ojson& n = out["new_session"];
      std::printf("forecast from %s, %d replications: %zu sessions in start-up, %zu past it\n", c.db.c_str(),
                  c.plan.replications, out["in_startup"].get<std::size_t>(), past);
      // Every pool, wrapped at 100 columns rather than cut: a pool left out would read as absent.
      std::string line = "threads " + threads + ":";
      for (std::size_t i = 0; i < run.pools.size(); ++i) {
        const std::string item = " " + run.pools[i].name + " " + std::to_string(run.pools[i].threads) +
                                 (i + 1 < run.pools.size() ? "," : "");
        if (line.size() + item.size() > 100) std::printf("%s\n", line.c_str()), line = " ";
        line += item;
      }
      std::printf("%s\n", line.c_str());
      const auto val = [](const ojson& j) { return j.is_number() ? j.get<double>() : std::nan(""); };
      const ojson& q = n["startup_s"];  // as the JSON has them, not sorted again
      std::printf("a new '%s' session now: start-up p50 %s s, p95 %s s, p99 %s s\n", probe_tp.name.c_str(),
                  fmt(val(q["p50"])).c_str(), fmt(val(q["p95"])).c_str(), fmt(val(q["p99"])).c_str());
      std::printf("  (the broker's queue-blind estimate: %s s)\n", fmt(n["queue_blind_s"].get<double>()).c_str());
      const ojson& ss = out["sessions"];
      if (!ss.empty())
        std::printf("  %10s  %-16s %9s %9s %9s %6s\n", "session", "template", "age s", "p50 s", "p95 s", "fail");
      int shown = 0;
      for (const auto& s : ss) {
        if (shown++ == c.rows) {
          std::printf("  ... and %zu more (--json FILE lists all)\n", ss.size() - static_cast<std::size_t>(c.rows));
          break;
        }
        std::printf("  %10llu  %-16s %9s %9s %9s %6s\n", static_cast<unsigned long long>(s["id"].get<std::uint64_t>()),
                    s["template"].get<std::string>().substr(0, 16).c_str(), fmt(s["age_s"].get<double>()).c_str(),
                    fmt(val(s["startup_s"]["p50"])).c_str(), fmt(val(s["startup_s"]["p95"])).c_str(),
                    fmt(s["failed_fraction"].get<double>()).c_str());
      }
      std::printf("(start-up in scenario seconds from acceptance)\n");
      if (c.record)
        std::printf("recorded %zu forecasts: `stepq live status` sets what happens beside them\n", ss.size());
      if (!c.report.empty()) std::printf("wrote %s (open it in a browser; it needs no network)\n", c.report.c_str());
    }
    return kOk;
  } catch (...) {
    return command_error_status("forecast");
  }
}

}  // namespace stepq
