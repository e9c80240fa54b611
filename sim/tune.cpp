#include "tune.hpp"

#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "core/analytic.hpp"
#include "core/rng.hpp"
#include "reports/progress.hpp"

namespace stepq::sim {

namespace {

using ojson = nlohmann::ordered_json;

// As `stepq simulate` does: the default warm-up removal, none for a trace replay.
SimOptions options(const Scenario& sc) {
  SimOptions o;
  if (sc.arrivals.process == ArrivalSpec::Process::trace) o.warmup = {Warmup::Method::none, 0};
  return o;
}

// A quarter of the scenario's sessions, at least 5000 (never more than the scenario has), unless set.
std::uint64_t search_sessions(const Scenario& sc, const TunePlan& plan) {
  const std::uint64_t n = *sc.sessions;
  if (plan.search_sessions) return std::min(n, plan.search_sessions);
  return std::min(n, std::max<std::uint64_t>(5000, n / 4));
}

struct Eval {
  double metric = INFINITY;    // max over targets of quantile / target
  std::vector<double> values;  // per target
  ojson result;                // combined replications
};

// The search vector: pools' threads (indexed like Scenario::pools), then per cluster the count
// of its first node group (indexed like platform.clusters).
using Sizes = std::vector<int>;

class Search {
 public:
  Search(const Scenario& sc, const TunePlan& plan, Progress* progress = nullptr)
      : sc_(sc), plan_(plan), progress_(progress), np_(sc.pools.size()) {
    weights_ = plan.weights.empty() ? std::vector<double>(np_, 1.0) : plan.weights;
    if (plan.node_weights.empty()) weights_.resize(np_ + sc.platform.clusters.size(), kNodeCost);
    else weights_.insert(weights_.end(), plan.node_weights.begin(), plan.node_weights.end());
  }

  const Eval& eval(const Sizes& sizes) {
    auto it = cache_.find(sizes);
    if (it != cache_.end()) return it->second;
    Scenario s = with_sizes(sc_, sizes);
    if (s.sessions) s.sessions = search_sessions(s, plan_);
    ReplicationPlan rp;
    rp.replications = plan_.replications;
    rp.jobs = plan_.jobs;
    if (progress_) progress_->update(cache_.size(), "now " + describe(sizes));
    Eval e;
    e.result = run_replications(s, options(sc_), rp);  // same seeds for every candidate
    e.metric = 0;
    for (const auto& t : plan_.targets) {
      const double v = t.value(e.result);
      e.values.push_back(v);
      e.metric = std::max(e.metric, v / t.seconds);
    }
    return cache_.emplace(sizes, std::move(e)).first->second;
  }

  std::string describe(const Sizes& sizes) const {
    std::string s;
    for (std::size_t i = 0; i < sizes.size(); ++i)
      s += (i ? " " : "") + (i < np_ ? sc_.pools[i].name : sc_.platform.clusters[i - np_].name) + "=" +
           std::to_string(sizes[i]) + (i < np_ ? "" : " nodes");
    return s;
  }

  static Scenario with_sizes(const Scenario& sc, const Sizes& sizes) {
    Scenario s = sc;
    const std::size_t np = sc.pools.size();
    for (std::size_t p = 0; p < np; ++p) s.pools[p].threads = sizes[p];
    for (std::size_t c = 0; c < s.platform.clusters.size(); ++c) s.platform.clusters[c].nodes[0].count = sizes[np + c];
    return s;
  }

  double cost(const Sizes& sizes) const {
    double c = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) c += weights_[i] * sizes[i];
    return c;
  }

  bool is_node(std::size_t i) const { return i >= np_; }
  std::size_t evaluations() const { return cache_.size(); }
  const std::vector<double>& weights() const { return weights_; }

 private:
  const Scenario& sc_;
  const TunePlan& plan_;
  Progress* progress_;
  std::size_t np_;
  std::vector<double> weights_;  // per entry of Sizes: threads' then nodes'
  std::map<Sizes, Eval> cache_;
};

int total_threads(const Scenario& sc, const Sizes& t) {
  return std::accumulate(t.begin(), t.begin() + sc.pools.size(), 0);
}
int total_nodes(const Scenario& sc, const Sizes& t) { return std::accumulate(t.begin() + sc.pools.size(), t.end(), 0); }
std::vector<int> threads_of(const Scenario& sc, const Sizes& t) { return {t.begin(), t.begin() + sc.pools.size()}; }
std::vector<int> nodes_of(const Scenario& sc, const Sizes& t) { return {t.begin() + sc.pools.size(), t.end()}; }

ojson threads_json(const Scenario& sc, const Sizes& t) {
  ojson j = ojson::object();
  for (std::size_t p = 0; p < sc.pools.size(); ++p) j[sc.pools[p].name] = t[p];
  return j;
}

ojson nodes_json(const Scenario& sc, const Sizes& t) {
  ojson j = ojson::object();
  for (std::size_t c = 0; c < sc.platform.clusters.size(); ++c)
    j[sc.platform.clusters[c].name] = t[sc.pools.size() + c];
  return j;
}

struct Chosen {
  Sizes sizes;
  bool met = false;
  ojson path = ojson::array();
  double metric = INFINITY;
  std::vector<double> values;
  std::string stopped;
};

// The analytic start: each cluster's least first-group nodes and each pool's least threads for
// stability.
Sizes analytic_start(const Scenario& sc) {
  const std::size_t np = sc.pools.size(), nc = sc.platform.clusters.size();
  Sizes t(np + nc, 1);
  AnalyticResult a = analyze(sc);
  if (nc > 0) {
    Scenario at = sc;
    for (std::size_t c = 0; c < nc; ++c) {
      const ClusterEstimate& e = a.clusters[c];
      if (!e.stable && e.nodes_needed == 0)
        throw std::invalid_argument(
            "cluster " + sc.platform.clusters[c].name +
            ": no number of nodes in its first node group keeps it stable (they fit no session; "
            "see `stepq analyze`)");
      t[np + c] = std::max(1, e.nodes_needed);
      at.platform.clusters[c].nodes[0].count = t[np + c];
    }
    // The pools' loads depend on the clusters: a session Pending is polled, and an overloaded
    // cluster stops the analysis before the polls are counted. So the threads are read at the
    // start's node counts.
    a = analyze(at);
  }
  for (std::size_t p = 0; p < np; ++p) {
    if (a.pools[p].min_threads == 0)
      throw std::invalid_argument("pool " + sc.pools[p].name +
                                  ": no number of threads keeps it stable (a link it uses is overloaded; see "
                                  "`stepq analyze`)");
    t[p] = std::max(1, a.pools[p].min_threads);
  }
  return t;
}

Chosen search(const Scenario& sc, const TunePlan& plan, Search& s, int max_threads, int max_nodes) {
  Chosen c;
  const bool clusters = !sc.platform.clusters.empty();
  Sizes cur = analytic_start(sc);
  const Sizes floor = cur;
  auto step = [&](const char* action, const Sizes& t) {
    const Eval& e = s.eval(t);
    ojson j;
    j["action"] = action;
    j["threads"] = threads_json(sc, t);
    if (clusters) j["nodes"] = nodes_json(sc, t);
    j["total_threads"] = total_threads(sc, t);
    for (std::size_t i = 0; i < plan.targets.size(); ++i) j["values"][plan.targets[i].name] = e.values[i];
    j["metric"] = e.metric;
    c.path.push_back(j);
  };
  // Each budget bounds its own kind of entry: threads and nodes are not traded against each other.
  auto affordable = [&](std::size_t i, const Sizes& t) {
    return s.is_node(i) ? total_nodes(sc, t) < max_nodes : total_threads(sc, t) < max_threads;
  };
  auto spent = [&](const Sizes& t) {
    const bool threads = total_threads(sc, t) >= max_threads, nodes = clusters && total_nodes(sc, t) >= max_nodes;
    if (threads && nodes) return std::string("the thread and node budgets (--max-threads, --max-nodes) are spent");
    if (threads) return std::string("the thread budget (--max-threads) is spent");
    if (nodes) return std::string("the node budget (--max-nodes) is spent");
    return std::string();
  };
  step(clusters ? "start: analytic least threads and nodes for stability"
                : "start: analytic least threads for stability",
       cur);
  // Greedy: the single thread or node with the best reduction of the metric per unit of cost.
  c.stopped = "targets met";
  while (s.eval(cur).metric > 1) {
    const double m = s.eval(cur).metric;
    double best_gain = 0;
    int best = -1;
    bool any = false;
    for (std::size_t i = 0; i < cur.size(); ++i) {
      if (!affordable(i, cur)) continue;
      any = true;
      auto cand = cur;
      cand[i]++;
      const double gain = (m - s.eval(cand).metric) / s.weights()[i];
      if (gain > best_gain) best_gain = gain, best = static_cast<int>(i);
    }
    if (!any) {
      c.stopped = spent(cur);
      break;
    }
    // Nothing buys even 0.1%: what is left is service time, not queueing; more only costs.
    if (best < 0 || best_gain * s.weights()[best] < 1e-3 * m) {
      c.stopped = clusters
                      ? "no single thread or node lowers the metric by 0.1% any more: the rest is service time, "
                        "not queueing"
                      : "no single thread lowers the metric by 0.1% any more: the rest is service time, not queueing";
      if (const std::string why = spent(cur); !why.empty()) c.stopped += " (" + why + ")";
      break;
    }
    cur[best]++;
    step(s.is_node(best) ? "add a node" : "add a thread", cur);
  }
  // Then take back threads and nodes the target does not need, the most expensive first.
  if (s.eval(cur).metric <= 1) {
    std::vector<std::size_t> order(cur.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s.weights()[a] > s.weights()[b]; });
    for (bool removed = true; removed;) {
      removed = false;
      for (std::size_t i : order) {
        if (cur[i] <= floor[i]) continue;
        auto cand = cur;
        cand[i]--;
        if (s.eval(cand).metric <= 1) {
          cur = cand;
          step(s.is_node(i) ? "remove a node" : "remove a thread", cur);
          removed = true;
          break;
        }
      }
    }
  }
  const Eval& e = s.eval(cur);
  c.sizes = cur;
  c.met = e.metric <= 1;
  c.metric = e.metric;
  c.values = e.values;
  return c;
}

Scenario at_rate(const Scenario& sc, double factor) {
  Scenario s = sc;
  s.arrivals.rate_per_s *= factor;
  return s;
}

}  // namespace

double TuneTarget::value(const ojson& result) const {
  if (name.rfind("wait.", 0) != 0) return result["startup_s"][name].get<double>();
  double worst = 0;
  for (const auto& [kind, k] : result["kinds"].items())
    worst = std::max(worst, k["wait_s"][name.substr(5)].get<double>());
  return worst;
}

TuneResult tune(const Scenario& sc, const TunePlan& plan) {
  if (plan.targets.empty()) throw std::invalid_argument("--target: give at least one, e.g. --target p95=300");
  if (!plan.weights.empty() && plan.weights.size() != sc.pools.size())
    throw std::invalid_argument("--weights: one cost per pool expected");
  if (!plan.node_weights.empty() && plan.node_weights.size() != sc.platform.clusters.size())
    throw std::invalid_argument("--node-cost: one cost per cluster expected");
  if (!plan.rates.empty() && sc.arrivals.process == ArrivalSpec::Process::trace)
    throw std::invalid_argument("--rates: the scenario replays a trace of arrivals, which has no rate to scale");

  const bool clusters = !sc.platform.clusters.empty();
  const Sizes start = analytic_start(sc);
  const int start_total = total_threads(sc, start), start_nodes = total_nodes(sc, start);
  const int max_threads = plan.max_threads > 0 ? plan.max_threads : 2 * start_total + 16;
  if (max_threads < start_total)
    throw std::invalid_argument("--max-threads " + std::to_string(max_threads) + ": below the " +
                                std::to_string(start_total) +
                                " threads the pools need just to keep up (see `stepq analyze`)");
  const int max_nodes = plan.max_nodes > 0 ? plan.max_nodes : 2 * start_nodes + 16;
  if (clusters && max_nodes < start_nodes)
    throw std::invalid_argument("--max-nodes " + std::to_string(max_nodes) + ": below the " +
                                std::to_string(start_nodes) +
                                " nodes the clusters need just to keep up (see `stepq analyze`)");

  // How many configurations the search will try is not known in advance: the line counts them.
  Progress progress("tune: search", "configurations simulated", 0, plan.progress);
  Search s(sc, plan, &progress);
  Chosen c = search(sc, plan, s, max_threads, max_nodes);
  progress.done();
  const std::vector<int> threads = threads_of(sc, c.sizes), nodes = nodes_of(sc, c.sizes);

  // Verify with seeds the search never saw.
  Scenario v = Search::with_sizes(sc, c.sizes);
  v.seed = derive(sc.seed, 0x7475'6e65);  // "tune"
  ReplicationPlan rp;
  rp.replications = plan.verify_replications;
  rp.jobs = plan.jobs;
  SimOptions vo = options(v);
  vo.progress = plan.progress;  // the replications' own line: percentage and ETA
  const ojson verified = run_replications(v, vo, rp);

  ojson j;
  j["method"] = "tune";
  j["scenario"] = sc.name;
  j["met"] = c.met;
  for (const auto& t : plan.targets) j["targets"][t.name] = t.seconds;
  j["total_threads"] = total_threads(sc, c.sizes);
  j["max_threads"] = max_threads;
  if (clusters) {  // a scenario without clusters gets the same keys as before clusters existed
    j["total_nodes"] = total_nodes(sc, c.sizes);
    j["max_nodes"] = max_nodes;
  }
  for (std::size_t p = 0; p < threads.size(); ++p) {
    auto& o = j["pools"][sc.pools[p].name];
    o["threads"] = threads[p];
    o["cost_per_thread"] = s.weights()[p];
    o["utilization"] = verified["pools"][sc.pools[p].name]["utilization"];
  }
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const std::string& name = sc.platform.clusters[k].name;
    auto& o = j["clusters"][name];
    o["nodes"] = nodes[k];
    o["cost_per_node"] = s.weights()[threads.size() + k];
    o["utilization"] = verified["clusters"][name]["utilization"]["cores"];
  }
  j["cost"] = s.cost(c.sizes);
  j["startup_s"] = verified["startup_s"];
  for (const auto& t : plan.targets) j["verified_values"][t.name] = t.value(verified);
  j["verified"] = {{"seed", v.seed}, {"replications", plan.verify_replications}, {"met", [&] {
                                                                                    for (const auto& t : plan.targets)
                                                                                      if (t.value(verified) > t.seconds)
                                                                                        return false;
                                                                                    return true;
                                                                                  }()}};
  if (!c.met) {
    j["best_reachable"] = ojson::object();
    for (std::size_t i = 0; i < plan.targets.size(); ++i) j["best_reachable"][plan.targets[i].name] = c.values[i];
  }
  j["search"] = {{"seed", sc.seed},
                 {"replications", plan.replications},
                 {"sessions", sc.sessions ? ojson(search_sessions(sc, plan)) : ojson("duration_s")},
                 {"evaluations", s.evaluations()},
                 {"stopped", c.stopped},
                 {"path", c.path}};

  if (!plan.rates.empty()) {
    ojson levels = ojson::array();
    for (double f : plan.rates) {
      char label[64];
      std::snprintf(label, sizeof label, "tune: load level %gx", f);
      progress.restart(label, "configurations simulated", 0);
      ojson l;
      l["rate_factor"] = f;
      l["rate_per_s"] = sc.arrivals.rate_per_s * f;
      try {
        const Scenario sf_sc = at_rate(sc, f);
        Search sf(sf_sc, plan, &progress);  // holds a reference: sf_sc must outlive it
        const Sizes st = analytic_start(sf_sc);
        const int mt = plan.max_threads > 0 ? plan.max_threads : 2 * total_threads(sc, st) + 16;
        const int mn = plan.max_nodes > 0 ? plan.max_nodes : 2 * total_nodes(sc, st) + 16;
        Chosen cf = search(sf_sc, plan, sf, mt, mn);
        l["met"] = cf.met;
        l["threads"] = threads_json(sc, cf.sizes);
        if (clusters) l["nodes"] = nodes_json(sc, cf.sizes);
        l["total_threads"] = total_threads(sc, cf.sizes);
        for (std::size_t i = 0; i < plan.targets.size(); ++i) l["values"][plan.targets[i].name] = cf.values[i];
      } catch (const std::invalid_argument& e) {
        l["met"] = false;
        l["error"] = e.what();
      }
      levels.push_back(l);
    }
    j["rates"] = levels;
    // The highest load the chosen configuration sustains within target: double, then bisect.
    auto ok = [&](double f) {
      Scenario sf = Search::with_sizes(at_rate(sc, f), c.sizes);
      const AnalyticResult a = analyze(sf);
      for (std::size_t p = 0; p < sf.pools.size(); ++p)
        if (a.pools[p].min_threads == 0 || a.pools[p].min_threads > threads[p]) return false;  // unstable
      for (const ClusterEstimate& e : a.clusters)
        if (!e.stable) return false;  // sessions would pile up Pending: no simulation can meet a target
      Search probe(sf, plan, &progress);
      return probe.eval(c.sizes).metric <= 1;
    };
    double lo = 0, hi = 1;
    progress.restart("tune: highest rate within target", "configurations simulated", 0);
    if (c.met) {
      lo = 1;
      while (hi <= 64 && ok(hi * 2)) hi *= 2, lo = hi;
      hi = lo * 2;
      for (int i = 0; i < 5; ++i) {
        const double mid = (lo + hi) / 2;
        (ok(mid) ? lo : hi) = mid;
      }
    }
    j["max_rate_within_target"] = {{"rate_factor", lo}, {"rate_per_s", sc.arrivals.rate_per_s * lo}};
  }
  progress.done();
  return {threads, nodes, c.met, j};
}

std::string apply_threads(const std::string& text, const std::string& file, const Scenario& sc,
                          const std::vector<int>& threads, const std::vector<int>& nodes) {
  auto j = nlohmann::ordered_json::parse(text, nullptr, true, /*ignore_comments=*/true);
  for (std::size_t p = 0; p < threads.size(); ++p) {
    const std::string& name = sc.pools[p].name;
    if (j.contains("pools")) j["pools"][name]["threads"] = threads[p];
    else j["kinds"][name]["threads"] = threads[p];  // without "pools", each kind is its own pool
  }
  // Only the first node group is sized: the others stay as written.
  for (std::size_t c = 0; c < nodes.size(); ++c)
    j["platform"]["clusters"][sc.platform.clusters[c].name]["nodes"][0]["count"] = nodes[c];
  std::string head = "// " + file + " with the pool sizes chosen by `stepq tune`:";
  for (std::size_t p = 0; p < threads.size(); ++p) head += " " + sc.pools[p].name + "=" + std::to_string(threads[p]);
  if (!nodes.empty()) head += "; first-group nodes:";
  for (std::size_t c = 0; c < nodes.size(); ++c)
    head += " " + sc.platform.clusters[c].name + "=" + std::to_string(nodes[c]);
  return head + "\n" + j.dump(2) + "\n";
}

}  // namespace stepq::sim
