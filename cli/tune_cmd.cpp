#include "tune_cmd.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/exit_codes.hpp"
#include "cli/report_file.hpp"
#include "cli/scenario_file.hpp"
#include "reports/html_report.hpp"
#include "reports/term_style.hpp"
#include "sim/tune.hpp"

namespace stepq {

struct TuneCommand {
  CLI::App* cmd = nullptr;
  std::string scenario, json_out, apply, weights, node_costs, rates, report;
  std::vector<std::string> sets, targets;
  std::optional<std::uint64_t> seed, sessions;
  sim::TunePlan plan;
  bool quiet = false;
};

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

double number(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && v > 0 && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw ScenarioError(what + ": expected a positive number (got '" + text + "')");
}

// NAME=COST,... for --weights (pools) and --node-cost (clusters): one cost per name, `fallback`
// for those not given. An unknown name exits 2 and lists the names there are.
std::vector<double> costs(const std::string& text, const std::string& option, const std::string& what,
                          const std::string& a_what, const std::string& file, const std::vector<std::string>& names,
                          double fallback) {
  std::vector<double> out(names.size(), fallback);
  for (const auto& w : split(text, ',')) {
    const auto eq = w.find('=');
    int i = -1;
    for (std::size_t n = 0; n < names.size(); ++n)
      if (eq != std::string::npos && names[n] == w.substr(0, eq)) i = static_cast<int>(n);
    if (i < 0) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw ScenarioError(option + " " + w + ": expected " + what + "=COST with " + a_what + " of " + file + " (" +
                          (list.empty() ? "it declares none" : list) + ")");
    }
    out[i] = number(w.substr(eq + 1), option + " " + w);
  }
  return out;
}

void print(std::ostream& out, const nlohmann::ordered_json& j, const TermStyle& style) {
  char b[200];
  const bool met = j["met"];
  const bool clusters = j.contains("clusters");
  out << style.bold(j["scenario"].get<std::string>()) << ": "
      << (met ? style.green("targets met") + " with " : style.red("targets NOT met") + " within ")
      << j["total_threads"].get<int>()
      << (met ? " threads" : " threads (--max-threads " + std::to_string(j["max_threads"].get<int>()) + ")");
  if (clusters)
    out << " and " << j["total_nodes"].get<int>() << (j["total_nodes"].get<int>() == 1 ? " node" : " nodes")
        << (met ? "" : " (--max-nodes " + std::to_string(j["max_nodes"].get<int>()) + ")");
  out << "\n\n";
  std::snprintf(b, sizeof b, "  %-20s %8s %12s\n", "pool", "threads", "utilization");
  out << b;
  for (const auto& [name, p] : j["pools"].items()) {
    std::snprintf(b, sizeof b, "  %-20s %8d %12.2f\n", name.substr(0, 20).c_str(), p["threads"].get<int>(),
                  p["utilization"].get<double>());
    out << b;
  }
  if (clusters) {  // only the first node group is sized; utilization is of the cores
    std::snprintf(b, sizeof b, "  %-20s %8s %12s\n", "cluster", "nodes", "utilization");
    out << b;
    for (const auto& [name, k] : j["clusters"].items()) {
      std::snprintf(b, sizeof b, "  %-20s %8d %12.2f\n", name.substr(0, 20).c_str(), k["nodes"].get<int>(),
                    k["utilization"].get<double>());
      out << b;
    }
  }
  const auto& s = j["startup_s"];
  out << "\nStart-up predicted with fresh seeds (" << j["verified"]["replications"].get<int>()
      << " replications), seconds\n";
  std::snprintf(b, sizeof b, "  p50 %.1f   p95 %.1f [95%% CI %.1f, %.1f]   p99 %.1f   mean %.1f\n",
                s["p50"].get<double>(), s["p95"].get<double>(), s["ci95"]["p95"][0].get<double>(),
                s["ci95"]["p95"][1].get<double>(), s["p99"].get<double>(), s["mean"].get<double>());
  out << b;
  out << "  targets:";
  for (const auto& [name, t] : j["targets"].items())
    out << " " << name << " <= " << t.get<double>() << " s (" << j["verified_values"][name].get<double>() << ", "
        << (j["verified_values"][name].get<double>() <= t.get<double>() ? "met" : "missed") << ")";
  out << "\n";
  if (j.contains("best_reachable")) {
    out << "  best reachable within the budget:";
    for (const auto& [name, v] : j["best_reachable"].items()) out << " " << name << " " << v.get<double>() << " s";
    out << "\n";
  }
  out << "\nSearch (" << j["search"]["evaluations"].get<int>() << " configurations simulated, "
      << j["search"]["replications"].get<int>() << " replications of " << j["search"]["sessions"].get<std::uint64_t>()
      << " sessions each,\ncommon random numbers)\n";
  // The reason may be a long sentence: wrapped at a space before column 100.
  std::string why = "  stopped: " + j["search"]["stopped"].get<std::string>();
  while (why.size() > 100) {
    const auto cut = why.rfind(' ', 100);
    out << why.substr(0, cut) << "\n";
    why = "    " + why.substr(cut + 1);
  }
  out << why << "\n";
  // One line per step: what changed from the step before, so a line fits 100 columns however
  // many pools there are (the chosen sizes are in the pool table above).
  // With clusters a column of total nodes; nodes' changes read "+cluster(node)".
  if (clusters)
    std::snprintf(b, sizeof b, "  %4s %7s %5s  %-30s %s\n", "step", "threads", "nodes", "change", "value (s)");
  else std::snprintf(b, sizeof b, "  %4s %7s  %-30s %s\n", "step", "threads", "change", "value (s)");
  out << b;
  const nlohmann::ordered_json* prev = nullptr;
  int step = 0;
  for (const auto& st : j["search"]["path"]) {
    std::string change;
    if (!prev) change = "start: least for stability";
    else
      for (const auto& [pool, n] : st["threads"].items()) {
        const int d = n.get<int>() - (*prev)["threads"][pool].get<int>();
        if (d) change += (change.empty() ? "" : " ") + std::string(d > 0 ? "+" : "-") + pool;
      }
    if (prev && clusters)
      for (const auto& [cl, n] : st["nodes"].items()) {
        const int d = n.get<int>() - (*prev)["nodes"][cl].get<int>();
        if (d) change += (change.empty() ? "" : " ") + std::string(d > 0 ? "+" : "-") + cl + "(node)";
      }
    if (change.size() > 30) change = change.substr(0, 29) + "~";
    std::string vals;
    for (const auto& [name, v] : st["values"].items()) {
      char x[48];
      std::snprintf(x, sizeof x, "%s%s %.1f", vals.empty() ? "" : ", ", name.substr(0, 12).c_str(), v.get<double>());
      vals += x;
    }
    if (clusters) {
      int nodes = 0;
      for (const auto& [cl, n] : st["nodes"].items()) nodes += n.get<int>();
      std::snprintf(b, sizeof b, "  %4d %7d %5d  %-30s %s\n", step++, st["total_threads"].get<int>(), nodes,
                    change.c_str(), vals.substr(0, 49).c_str());
    } else {
      std::snprintf(b, sizeof b, "  %4d %7d  %-30s %s\n", step++, st["total_threads"].get<int>(), change.c_str(),
                    vals.substr(0, 55).c_str());
    }
    out << b;
    prev = &st;
  }
  if (j.contains("rates")) {
    out << "\nBy load level (multiples of the scenario's arrival rate)\n";
    for (const auto& l : j["rates"]) {
      std::string cfg;
      if (l.contains("threads"))
        for (const auto& [pool, n] : l["threads"].items()) cfg += " " + pool + "=" + std::to_string(n.get<int>());
      if (l.contains("nodes"))
        for (const auto& [cl, n] : l["nodes"].items()) cfg += " " + cl + "=" + std::to_string(n.get<int>()) + " nodes";
      std::string line = [&] {
        char x[80];
        std::snprintf(x, sizeof x, "  %5gx (%.4g/s): %s", l["rate_factor"].get<double>(), l["rate_per_s"].get<double>(),
                      l["met"].get<bool>() ? "met with" : "not met");
        return std::string(x);
      }() + (l.contains("error") ? " - " + l["error"].get<std::string>() : cfg);
      if (line.size() > 100) line = line.substr(0, 99) + "~";
      out << line << "\n";
    }
    const auto& m = j["max_rate_within_target"];
    std::snprintf(b, sizeof b,
                  "  the chosen configuration stays within target up to %.3gx the rate (%.4g sessions/s)\n",
                  m["rate_factor"].get<double>(), m["rate_per_s"].get<double>());
    out << b;
  }
}

int run(TuneCommand& c) {
  std::vector<Override> ov;
  for (const auto& s : c.sets) ov.push_back(parse_override(s));
  Scenario sc = load_scenario_file(c.scenario, ov);
  if (c.seed) sc.seed = *c.seed;
  if (c.sessions) sc.sessions = *c.sessions, sc.duration_s.reset();
  for (const auto& t : c.targets) {
    const auto eq = t.find('=');
    const std::string name = t.substr(0, eq);
    const std::string q = name.rfind("wait.", 0) == 0 ? name.substr(5) : name;
    if (eq == std::string::npos || (q != "p50" && q != "p95" && q != "p99"))
      throw ScenarioError("--target " + t +
                          ": expected pXX=SECONDS (start-up) or wait.pXX=SECONDS (queue wait of every\n"
                          "kind), with XX one of 50, 95, 99; e.g. --target p95=300");
    c.plan.targets.push_back({name, number(t.substr(eq + 1), "--target " + t)});
  }
  if (!c.weights.empty()) {
    std::vector<std::string> pools;
    for (const auto& pool : sc.pools) pools.push_back(pool.name);
    c.plan.weights = costs(c.weights, "--weights", "POOL", "a pool", c.scenario, pools, 1.0);
  }
  if (!c.node_costs.empty()) {
    std::vector<std::string> clusters;
    for (const auto& cl : sc.platform.clusters) clusters.push_back(cl.name);
    c.plan.node_weights =
        costs(c.node_costs, "--node-cost", "CLUSTER", "a cluster", c.scenario, clusters, sim::kNodeCost);
  }
  for (const auto& r : split(c.rates, ',')) c.plan.rates.push_back(number(r, "--rates " + r));
  c.plan.progress = !c.quiet;
  check_report_path(c.report);

  std::ofstream json_file, apply_file;
  if (!c.json_out.empty() && c.json_out != "-") {
    json_file.open(c.json_out);
    if (!json_file) throw ScenarioError("--json " + c.json_out + ": cannot open the file for writing");
  }
  if (!c.apply.empty()) {
    apply_file.open(c.apply);
    if (!apply_file) throw ScenarioError("--apply " + c.apply + ": cannot open the file for writing");
  }

  sim::TuneResult r;
  try {
    r = sim::tune(sc, c.plan);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(c.scenario + ": " + e.what());
  } catch (const std::exception& e) {
    std::cerr << "stepq tune: " << c.scenario << ": " << e.what() << "\n";
    return kRunFailed;
  }
  if (!c.quiet && c.json_out != "-") print(std::cout, r.json, TermStyle::for_fd(1));
  if (c.json_out == "-") std::cout << r.json.dump(2) << "\n";
  else if (json_file.is_open()) json_file << r.json.dump(2) << "\n";
  if (!c.report.empty()) {
    try {
      write_tune_report(c.report, sc, r.json);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return kRunFailed;
    }
    if (!c.quiet && c.json_out != "-")
      std::cout << "\nwrote " << c.report << " (open it in a browser; it needs no network)\n";
  }
  if (apply_file.is_open()) {
    std::ifstream in(c.scenario);
    std::stringstream text;
    text << in.rdbuf();
    std::string applied = sim::apply_threads(text.str(), c.scenario, sc, r.threads, r.nodes);
    apply_file << applied;
    if (!apply_file) throw ScenarioError("--apply " + c.apply + ": writing failed");
    if (!c.quiet)
      std::cout << "\nwrote " << c.apply << " (the scenario with these pool sizes"
                << (r.nodes.empty() ? "" : " and first-group node counts") << ")\n";
  }
  return kOk;
}

}  // namespace

std::shared_ptr<TuneCommand> add_tune_command(CLI::App& app) {
  auto c = std::make_shared<TuneCommand>();
  c->cmd =
      app.add_subcommand("tune", "Find the fewest threads per pool and nodes per cluster that meet a start-up target.");
  c->cmd->add_option("SCENARIO", c->scenario, "Scenario file (see docs/scenarios.md).")->required();
  c->cmd
      ->add_option("--target", c->targets,
                   "Target, in seconds: p50|p95|p99=S for start-up, wait.p50|wait.p95|wait.p99=S for the\n"
                   "queue wait of every kind. E.g. p95=300. Repeat for several; all must hold.")
      ->required()
      ->type_name("pXX=SECONDS");
  c->cmd
      ->add_option("--max-threads", c->plan.max_threads,
                   "Budget: threads over all pools (default: twice the analytic minimum + 16).")
      ->check(CLI::Range(1, 100000));
  c->cmd
      ->add_option("--max-nodes", c->plan.max_nodes,
                   "Budget: nodes over all clusters (default: twice the analytic minimum + 16). Only\n"
                   "the first node group of each cluster is sized.")
      ->check(CLI::Range(1, 100000));
  c->cmd
      ->add_option("--weights", c->weights,
                   "Cost of one thread per pool, e.g. data.stage=4,image.pull=1 (default 1 each).\n"
                   "The search buys the thread with the best improvement per unit of cost.")
      ->type_name("POOL=COST,...");
  c->cmd
      ->add_option("--node-cost", c->node_costs,
                   "Cost of one node (of a cluster's first node group) per cluster, in the units of\n"
                   "--weights, e.g. k=20 (default 10 each: a node costs as much as 10 threads).")
      ->type_name("CLUSTER=COST,...");
  c->cmd
      ->add_option("--rates", c->rates,
                   "Also tune at these load levels (multiples of the scenario's arrival rate), and find\n"
                   "the highest rate the chosen configuration sustains within target. E.g. 0.5,1,2")
      ->type_name("F,F,...");
  c->cmd->add_option("--replications", c->plan.replications, "Replications per candidate in the search (default 4).")
      ->check(CLI::Range(1, 1000));
  c->cmd
      ->add_option("--search-sessions", c->plan.search_sessions,
                   "Sessions per simulation during the search (default: a quarter of the scenario's, at\n"
                   "least 5000); "
                   "the chosen configuration is verified with the scenario's full number.")
      ->check(CLI::Range(10ull, 100000000ull));
  c->cmd
      ->add_option("--verify-replications", c->plan.verify_replications,
                   "Replications with fresh seeds for the chosen configuration (default 8).")
      ->check(CLI::Range(2, 1000));
  c->cmd->add_option("-j,--jobs", c->plan.jobs, "Simulations at a time (default: the number of cores).")
      ->check(CLI::Range(1, 1024));
  c->cmd->add_option("--seed", c->seed, "Base seed of the search (default: the scenario's). Same seed, same answer.");
  c->cmd->add_option("--sessions", c->sessions, "Sessions per simulation (default: the scenario's).")
      ->check(CLI::Range(10ull, 100000000ull));
  c->cmd->add_option("--set", c->sets, "Override one scenario field: JSON pointer = value. Repeatable.")
      ->type_name("PTR=VALUE");
  c->cmd->add_option("--json", c->json_out, "Write the answer as JSON to FILE ('-' for stdout).")->type_name("FILE");
  c->cmd
      ->add_option("--apply", c->apply,
                   "Write a copy of the scenario with the chosen pool sizes and first-group node\n"
                   "counts to FILE.")
      ->type_name("FILE");
  c->cmd
      ->add_option("--report", c->report,
                   "Write a self-contained HTML report (charts: search path, load levels, start-up of the\n"
                   "chosen configuration; opens offline) to FILE.")
      ->type_name("FILE");
  c->cmd->add_flag("-q,--quiet", c->quiet, "Print nothing but errors; no progress line.");
  c->cmd->footer(
      "Starts from each pool's least threads for stability (as `stepq analyze`), then adds the\n"
      "thread that lowers the target metric most per unit of cost, simulating every candidate with\n"
      "the same seeds (common random numbers), until all targets hold; then removes threads that\n"
      "are not needed. The answer is verified with fresh seeds. Exit 0 also when the target cannot\n"
      "be met (`met` is false in the JSON, and the best reachable value is reported).\n"
      "Clusters (platform.clusters): sessions wait Pending until one admits them, so nodes are sized\n"
      "too: the count of each cluster's FIRST node group (the other groups stay as written), from\n"
      "`stepq analyze`'s least nodes for stability, a node at a time beside the threads, each priced\n"
      "by --node-cost against the threads' --weights.\n"
      "Examples:\n"
      "  stepq tune scenarios/skaha-basic.json --target p95=300\n"
      "  stepq tune scenarios/skaha-basic.json --target p95=300 --target p99=600 --json t.json\n"
      "  stepq tune scenarios/skaha-basic.json --target p95=300 --rates 0.5,1,2 --apply tuned.json\n"
      "  stepq tune scenarios/skaha-basic.json --target p95=300 --report tune.html");
  return c;
}

std::optional<int> run_tune_command(TuneCommand& c) {
  if (!*c.cmd) return std::nullopt;
  try {
    return run(c);
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kBadInput;
  }
}

}  // namespace stepq
