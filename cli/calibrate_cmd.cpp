#include "cli/calibrate_cmd.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "backends/live/open_store.hpp"
#include "backends/live/store.hpp"
#include "cli/calibrate_log.hpp"
#include "cli/command_errors.hpp"
#include "cli/db_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/scenario_file.hpp"
#include "core/censored.hpp"
#include "core/fit.hpp"
#include "core/transfer_fit.hpp"

namespace stepq {

namespace {

using ojson = nlohmann::ordered_json;

// Below this many executions a kind keeps BASE's figures: a fit of fewer says little, and AIC
// cannot tell the families apart.
constexpr std::size_t kMinSamples = 30;

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

ojson dist_json(const Fit& f) {
  if (f.family == "exponential") return {{"dist", "exponential"}, {"mean", f.params[0]}};
  if (f.family == "lognormal") return {{"dist", "lognormal"}, {"mu", f.params[0]}, {"sigma", f.params[1]}};
  if (f.family == "empirical") return {{"dist", "empirical"}, {"samples", f.params}};
  return {{"dist", f.family}, {"shape", f.params[0]}, {"scale", f.params[1]}};
}

std::string describe(const Fit& f) {
  if (f.family == "exponential") return "exponential(mean " + num(f.params[0]) + ")";
  if (f.family == "lognormal") return "lognormal(mu " + num(f.params[0]) + ", sigma " + num(f.params[1]) + ")";
  if (f.family == "empirical") return "empirical(" + std::to_string(f.params.size()) + " quantiles)";
  return f.family + "(shape " + num(f.params[0]) + ", scale " + num(f.params[1]) + ")";
}

// Wilson's 95% interval for a proportion: unlike p ± 1.96·se it stays inside [0, 1] and does not
// collapse to a point when no failure was seen.
std::pair<double, double> wilson(std::size_t k, std::size_t n) {
  const double z = 1.959964, p = static_cast<double>(k) / static_cast<double>(n), nn = static_cast<double>(n);
  const double centre = (p + z * z / (2 * nn)) / (1 + z * z / nn);
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
  return {k == 0 ? 0.0 : std::max(0.0, centre - half), k == n ? 1.0 : std::min(1.0, centre + half)};
}

ojson read_document(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return ojson::parse(s.str(), nullptr, true, true);  // comments allowed, as the loader allows them
}

}  // namespace

struct CalibrateCommand {
  CLI::App* cmd = nullptr;
  std::string db = "sqlite:stepq.db", base, out, trace;
  double since = 0, time_scale = 1;
  bool quiet = false;
};

namespace {

// A poll kind's ready_after_s from its looks: each polled step's ready time lies after its last
// look that found it not ready and by the look that found it ready (core/censored.hpp). Writes
// the estimate into `j` and says what it did.
std::string fit_ready_after(const KindLog& log, const std::string& base_path, ojson& j, const std::string& window) {
  std::vector<std::pair<double, double>> iv;
  double counted = 0;
  for (const auto& [key, l] : log.looks)
    if (l.ready > 0) {
      iv.emplace_back(l.last_not_ready, l.ready);
      counted += l.ready;
    }
  if (iv.size() < kMinSamples)
    return "ready_after_s kept from " + base_path + ": " + std::to_string(iv.size()) + " polled steps ready " + window;
  const Npmle e = interval_censored_npmle(iv);
  j["poll"]["ready_after_s"] = {{"dist", "empirical"}, {"samples", e.quantiles(1000)}};
  return "ready_after_s from " + std::to_string(iv.size()) +
         " polled steps, each ready between two looks: Turnbull's estimate, mean " + num(e.mean()) +
         " s (the look that found it ready says " + num(counted / static_cast<double>(iv.size())) + " s)";
}

// A distribution fitted to positive durations, for a part of the scenario other than a kind's
// service (run times, rule delays): the same families and choice. Null below kMinSamples.
std::optional<std::pair<ojson, std::string>> fit_durations(const std::vector<double>& all, const std::string& what,
                                                           const std::string& window) {
  std::vector<double> xs;
  for (double x : all)
    if (x > 1e-9) xs.push_back(x);
  if (xs.size() < kMinSamples) return std::nullopt;
  const auto fits = fit_families(xs);
  const Fit best = choose_fit(fits, xs);
  return std::make_pair(dist_json(best), what + " from " + std::to_string(xs.size()) + " observed " + window + ": " +
                                             describe(best) + ", KS p " + num(fits.front().ks_p));
}

// Session run times per template, and rule delays per rule kind. Returns the summary's lines.
std::string fit_lifetimes(const Scenario& base, const KindLogs& logs, ojson& doc, const std::string& window) {
  std::string out;
  for (std::size_t t = 0; t < base.templates.size(); ++t) {
    const TemplateSpec& tp = base.templates[t];
    const auto it = logs.runs.find(tp.name);
    if (!tp.session || !tp.has_release() || it == logs.runs.end()) continue;
    if (auto f = fit_durations(it->second, "run_s", window)) {
      ojson& s = doc["templates"][t]["session"];
      s["run_s"] = f->first;
      s["comment"] = f->second;
      out += "\nrun time: " + tp.name + " " + f->second.substr(f->second.find(": ") + 2);
    }
  }
  for (const auto& [kind, d] : logs.delays)
    if (auto f = fit_durations(d, "rule delay_s", window)) {
      ojson& k = doc["kinds"][kind];
      k["rule"]["delay_s"] = f->first;
      k["comment"] = (k.contains("comment") ? k["comment"].get<std::string>() + "; " : "") + f->second;
      out += "\nrule delay: " + kind + " " + f->second.substr(f->second.find(": ") + 2);
    }
  return out;
}

// --arrival-trace: the observed arrivals as a trace file beside the scenario, which then replays
// them. Returns what the summary prints.
std::string write_arrival_trace(const std::vector<double>& at, const CalibrateCommand& c, ojson& doc,
                                const std::string& window) {
  namespace fs = std::filesystem;
  if (at.empty()) throw ScenarioError("--arrival-trace " + c.trace + ": no session arrived " + window);
  std::ofstream t(c.trace);
  t << "seconds\n";
  char line[32];
  for (double a : at) {
    std::snprintf(line, sizeof line, "%.6f\n", (a - at.front()) / c.time_scale);
    t << line;
  }
  t.close();
  if (!t) throw ScenarioError("--arrival-trace " + c.trace + ": cannot write the file");
  // The loader reads a trace relative to the scenario file.
  const fs::path rel = fs::relative(fs::absolute(c.trace), fs::absolute(c.out).parent_path());
  ojson a = {{"process", "trace"}, {"file", rel.string()}};
  if (doc["arrivals"].contains("users")) a["users"] = doc["arrivals"]["users"];
  a["comment"] = "the " + std::to_string(at.size()) + " arrivals " + window + ", replayed";
  doc["arrivals"] = a;
  return "a trace of " + std::to_string(at.size()) + " arrivals in " + c.trace;
}

// Link bandwidths (and a one-hop route's latency) from the transfers that moved alone
// (core/transfer_fit.hpp). Returns what the summary prints: nothing without transfers.
std::string fit_links(const Scenario& base, const std::vector<TransferObs>& obs, ojson& doc,
                      const std::string& window) {
  if (obs.empty()) return "";
  const PlatformSpec& p = base.platform;
  const auto alone = moved_alone(p, obs);
  const auto lone = static_cast<std::size_t>(std::count(alone.begin(), alone.end(), true));
  std::string out = "\nlinks: " + std::to_string(obs.size()) + " transfers, " + std::to_string(lone) + " alone";
  for (const LinkCost& f : fit_link_costs(p, obs, alone, kMinSamples)) {
    const LinkSpec& l = p.links[static_cast<std::size_t>(f.link)];
    ojson* j = nullptr;
    for (auto& x : doc["platform"]["links"])
      if (x["name"] == l.name) j = &x;
    if (!j) continue;
    const double mbps = f.bandwidth_Bps / 1e6;
    (*j)["bandwidth_MBps"] = mbps;
    std::string why = "bandwidth from " + std::to_string(f.samples) + " transfers " + window +
                      " that had their links to themselves: time = latency + bytes / bandwidth by least squares, " +
                      num(mbps) + " MB/s (BASE " + num(l.bandwidth_Bps / 1e6) + "), R^2 " + num(f.r2) + "; latency";
    for (const auto& [route, lat] : f.latency_s) {
      const RouteSpec& r = p.routes[static_cast<std::size_t>(route)];
      why += " " + r.from + "->" + r.to + " " + num(lat) + " s";
      if (r.links.size() == 1 && lat >= 0) (*j)["latency_s"] = lat;  // one hop: the route's latency is the link's
    }
    (*j)["comment"] = why;
    out += "; " + l.name + " " + num(mbps) + " MB/s";
  }
  return out;
}

}  // namespace

std::shared_ptr<CalibrateCommand> add_calibrate_command(CLI::App& app) {
  auto c = std::make_shared<CalibrateCommand>();
  c->cmd = app.add_subcommand("calibrate", "Fit service times, failures and arrivals to a live run's log.");
  add_db_option(c->cmd, c->db);
  c->cmd
      ->add_option("--scenario", c->base,
                   "BASE: the scenario the engine ran. Its kinds, pools, templates and platform are kept;\n"
                   "what the log shows replaces its guesses.")
      ->required()
      ->type_name("BASE");
  c->cmd->add_option("-o,--output", c->out, "Write the calibrated scenario to FILE (it validates and simulates).")
      ->required()
      ->type_name("FILE");
  c->cmd->add_option("--since", c->since, "Only executions that started at or after this time (Unix seconds).")
      ->type_name("SECONDS");
  add_log_time_scale_option(c->cmd, c->time_scale);
  c->cmd
      ->add_option("--arrival-trace", c->trace,
                   "Write the observed arrival times to FILE and make the scenario replay them\n"
                   "(\"process\": \"trace\") rather than fit a rate.")
      ->type_name("FILE");
  c->cmd->add_flag("-q,--quiet", c->quiet, "Print nothing but errors.");
  c->cmd->footer(
      "Per kind: the service time (claimed -> finished, every execution that ran to an end) fitted by\n"
      "maximum likelihood as exponential, lognormal, gamma and Weibull, the least AIC chosen unless the\n"
      "Kolmogorov-Smirnov test rejects it at 1% (then the empirical distribution); the failure\n"
      "probability per attempt with its 95% interval. The arrival rate, with a KS test of its gaps\n"
      "against Poisson arrivals. Each fitted part says in its \"comment\" what it was fitted from.\n"
      "A poll kind's ready time (from activation) by Turnbull's estimate for interval-censored data:\n"
      "each step was ready after its last look that found it not ready and by the next.\n"
      "Kept from BASE, and said so: kinds with fewer than 30 executions, and polls on clusters.\n"
      "Example:\n"
      "  stepq calibrate --db sqlite:stepq.db --scenario scenarios/skaha-basic.json -o fitted.json\n"
      "  stepq simulate fitted.json");
  return c;
}

std::optional<int> run_calibrate_command(CalibrateCommand& c) {
  if (!*c.cmd) return std::nullopt;
  try {
    const Scenario base = load_scenario_file(c.base);
    ojson doc = read_document(c.base);
    auto store = live::open_store(c.db, false);
    KindLogs logs(base, c.time_scale);
    const live::History h = store->history(c.since, logs);
    const std::string window = "since " + num(c.since) + " (Unix s) in " + c.db;

    std::size_t executions = 0;
    for (const auto& [name, log] : logs.kinds) {
      executions += log.executions;
      bool known = false;
      for (const auto& k : base.kinds) known = known || k.name == name;
      if (!known)
        throw ScenarioError("--scenario " + c.base + ": the database has " + std::to_string(log.executions) +
                            " executions of kind '" + name +
                            "', which this scenario lacks; give the scenario the "
                            "engine ran");
    }
    if (executions == 0)
      throw ScenarioError("--db " + c.db + ": no executions of kind '" + base.kinds.front().name + "' (or any other) " +
                          window + "; run `stepq live run` first, or move --since back");

    std::size_t fitted = 0;
    std::string table;
    for (const auto& k : base.kinds) {
      ojson& j = doc["kinds"][k.name];
      const KindLog& log = logs.kinds[k.name];
      const std::vector<double>& xs = log.service;
      const std::size_t attempts = log.attempts, failures = log.failures;
      char line[160];
      if (xs.size() < kMinSamples) {
        j["comment"] = "kept from " + c.base + ": " + std::to_string(log.ran) + " executions " + window +
                       " (calibrate fits from " + std::to_string(kMinSamples) + ")";
        std::snprintf(line, sizeof line, "  %-20s %8zu  kept from BASE (too few executions)\n",
                      k.name.substr(0, 20).c_str(), log.ran);
        table += line;
        continue;
      }
      ++fitted;
      const auto fits = fit_families(xs);
      const Fit best = choose_fit(fits, xs);
      j["service_s"] = dist_json(best);
      double mean = 0;
      for (double x : xs) mean += x;
      mean /= static_cast<double>(xs.size());
      std::string why =
          "calibrated from " + std::to_string(log.ran) + " executions " + window +
          (xs.size() < log.ran ? " (fitted to a uniform sample of " + std::to_string(xs.size()) + ")" : "") +
          ": service " + describe(best) + ", sample mean " + num(mean) + " s; by AIC";
      for (const auto& f : fits) why += " " + f.family + " " + num(f.aic);
      why += "; KS of the best family D " + num(fits.front().ks) + " (p " + num(fits.front().ks_p) + ")";
      if (best.family == "empirical") why += ", rejected at 1%: the empirical distribution instead";
      std::string failure = "-";
      if (!k.poll && attempts >= kMinSamples) {
        const double p = static_cast<double>(failures) / static_cast<double>(attempts);
        const auto [lo, hi] = wilson(failures, attempts);
        if (p > 0 || k.retry.failure_probability > 0) j["retry"]["failure_probability"] = p;
        why += "; failure per attempt " + num(p) + " (95% " + num(lo) + "-" + num(hi) + ", " +
               std::to_string(failures) + " of " + std::to_string(attempts) + ")";
        failure = num(p);
      }
      if (k.poll && !k.poll->watch_rules) why += "; " + fit_ready_after(log, c.base, j, window);
      j["comment"] = why;
      std::snprintf(line, sizeof line, "  %-20s %8zu  %-12s %9s %9s %8s\n", k.name.substr(0, 20).c_str(), log.ran,
                    best.family.c_str(), num(best.dist.mean()).c_str(),
                    best.family == "empirical" ? "-" : num(best.ks_p).c_str(), failure.c_str());
      table += line;
    }
    if (fitted == 0)
      throw ScenarioError("--db " + c.db + ": too short a history: no kind has " + std::to_string(kMinSamples) +
                          " executions " + window);

    std::string arrivals = "kept from BASE";
    if (h.arrivals.size() >= kMinSamples && base.arrivals.process == ArrivalSpec::Process::poisson) {
      std::vector<double> gaps;
      for (std::size_t i = 1; i < h.arrivals.size(); ++i)
        gaps.push_back((h.arrivals[i] - h.arrivals[i - 1]) / c.time_scale);
      const double span = (h.arrivals.back() - h.arrivals.front()) / c.time_scale;
      if (span > 0) {
        const double rate = static_cast<double>(gaps.size()) / span;
        std::vector<double> positive;
        for (double g : gaps)
          if (g > 0) positive.push_back(g);
        std::string poisson;
        if (positive.size() >= 2) {
          const auto fits = fit_families(positive);
          for (const auto& f : fits)
            if (f.family == "exponential")
              poisson = "; gaps against exponential: KS D " + num(f.ks) + " (p " + num(f.ks_p) + ")";
        }
        doc["arrivals"]["rate_per_s"] = rate;
        doc["arrivals"]["comment"] = "calibrated from " + std::to_string(h.arrivals.size()) + " arrivals over " +
                                     num(span) + " s " + window + ": rate " + num(rate) + "/s" + poisson;
        arrivals = num(rate) + "/s from " + std::to_string(h.arrivals.size()) + " arrivals" + poisson;
      }
    }
    if (!c.trace.empty()) arrivals = write_arrival_trace(h.arrivals, c, doc, window);

    // Threads: what the processors that ran had, on average over the time any of them ran.
    std::string threads = "kept from BASE (no processor ran " + window + ")";
    const auto mean = mean_threads(h.processors);
    if (!mean.empty()) threads.clear();
    for (const auto& pool : base.pools) {
      const auto it = mean.find(pool.name);
      if (it == mean.end()) continue;
      const int n = std::max(1, static_cast<int>(std::lround(it->second)));
      // Without "pools" each kind has its own pool, named after it, sized by the kind's "threads".
      ojson& at = doc.contains("pools") ? doc["pools"][pool.name] : doc["kinds"][pool.name];
      at["threads"] = n;
      const std::string note = "threads " + std::to_string(n) + " from " + std::to_string(h.processors.size()) +
                               " processor(s): a mean of " + num(it->second) + " over the time any ran" +
                               (n != pool.threads ? " (BASE had " + std::to_string(pool.threads) + ")" : "");
      at["comment"] = at.contains("comment") ? at["comment"].get<std::string>() + "; " + note : note;
      threads += (threads.empty() ? "" : ", ") + pool.name + " " + std::to_string(n);
    }
    const std::string links = fit_links(base, logs.transfers, doc, window);
    const std::string lifetimes = fit_lifetimes(base, logs, doc, window);
    doc["comment"] = "calibrated by `stepq calibrate` from " + c.db + " with " + c.base + " as the base";

    std::ofstream f(c.out);
    f << doc.dump(2) << "\n";
    f.close();
    if (!f) throw ScenarioError("-o " + c.out + ": cannot write the file");
    try {
      load_scenario_file(c.out);
    } catch (const ScenarioError& e) {  // what calibrate wrote must load: a failure here is a bug
      std::cerr << "error: stepq calibrate wrote a scenario that does not validate: " << e.what() << "\n";
      return kRunFailed;
    }
    if (!c.quiet) {
      std::printf("  %-20s %8s  %-12s %9s %9s %8s\n", "kind", "samples", "family", "mean s", "KS p", "fail p");
      std::cout << table << "arrivals: " << arrivals << "\nthreads: " << threads << links << lifetimes << "\nwrote "
                << c.out << "\n(each fitted part's \"comment\" says what it was fitted from; simulate it next)\n";
    }
    return kOk;
  } catch (...) {
    return command_error_status("calibrate");
  }
}

}  // namespace stepq
