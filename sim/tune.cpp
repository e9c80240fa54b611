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
  double metric = INFINITY;     // max over targets of quantile / target
  std::vector<double> values;   // per target
  ojson result;                 // combined replications
};

class Search {
 public:
  Search(const Scenario& sc, const TunePlan& plan, Progress* progress = nullptr)
      : sc_(sc), plan_(plan), progress_(progress) {
    weights_ = plan.weights.empty() ? std::vector<double>(sc.pools.size(), 1.0) : plan.weights;
  }

  const Eval& eval(const std::vector<int>& threads) {
    auto it = cache_.find(threads);
    if (it != cache_.end()) return it->second;
    Scenario s = with_threads(sc_, threads);
    if (s.sessions) s.sessions = search_sessions(s, plan_);
    ReplicationPlan rp;
    rp.replications = plan_.replications;
    rp.jobs = plan_.jobs;
    if (progress_) progress_->update(cache_.size(), "now " + describe(threads));
    Eval e;
    e.result = run_replications(s, options(sc_), rp);  // same seeds for every candidate
    e.metric = 0;
    for (const auto& t : plan_.targets) {
      const double v = t.value(e.result);
      e.values.push_back(v);
      e.metric = std::max(e.metric, v / t.seconds);
    }
    return cache_.emplace(threads, std::move(e)).first->second;
  }

  std::string describe(const std::vector<int>& threads) const {
    std::string s;
    for (std::size_t p = 0; p < threads.size(); ++p)
      s += (p ? " " : "") + sc_.pools[p].name + "=" + std::to_string(threads[p]);
    return s;
  }

  static Scenario with_threads(const Scenario& sc, const std::vector<int>& threads) {
    Scenario s = sc;
    for (std::size_t p = 0; p < threads.size(); ++p) s.pools[p].threads = threads[p];
    return s;
  }

  double cost(const std::vector<int>& threads) const {
    double c = 0;
    for (std::size_t p = 0; p < threads.size(); ++p) c += weights_[p] * threads[p];
    return c;
  }

  std::size_t evaluations() const { return cache_.size(); }
  const std::vector<double>& weights() const { return weights_; }

 private:
  const Scenario& sc_;
  const TunePlan& plan_;
  Progress* progress_;
  std::vector<double> weights_;
  std::map<std::vector<int>, Eval> cache_;
};

int total(const std::vector<int>& t) { return std::accumulate(t.begin(), t.end(), 0); }

ojson threads_json(const Scenario& sc, const std::vector<int>& t) {
  ojson j = ojson::object();
  for (std::size_t p = 0; p < t.size(); ++p) j[sc.pools[p].name] = t[p];
  return j;
}

struct Chosen {
  std::vector<int> threads;
  bool met = false;
  ojson path = ojson::array();
  double metric = INFINITY;
  std::vector<double> values;
  std::string stopped;
};

// The analytic start: each pool's least threads for stability.
std::vector<int> analytic_start(const Scenario& sc) {
  const AnalyticResult a = analyze(sc);
  std::vector<int> t(sc.pools.size(), 1);
  for (std::size_t p = 0; p < sc.pools.size(); ++p) {
    if (a.pools[p].min_threads == 0)
      throw std::invalid_argument("pool " + sc.pools[p].name +
                                  ": no number of threads keeps it stable (a link it uses is overloaded; see "
                                  "`stepq analyze`)");
    t[p] = std::max(1, a.pools[p].min_threads);
  }
  return t;
}

Chosen search(const Scenario& sc, const TunePlan& plan, Search& s, int max_threads) {
  Chosen c;
  std::vector<int> cur = analytic_start(sc);
  const std::vector<int> floor = cur;
  auto step = [&](const char* action, const std::vector<int>& t) {
    const Eval& e = s.eval(t);
    ojson j;
    j["action"] = action;
    j["threads"] = threads_json(sc, t);
    j["total_threads"] = total(t);
    for (std::size_t i = 0; i < plan.targets.size(); ++i) j["values"][plan.targets[i].name] = e.values[i];
    j["metric"] = e.metric;
    c.path.push_back(j);
  };
  step("start: analytic least threads for stability", cur);
  // Greedy: the single thread with the best reduction of the metric per unit of cost.
  c.stopped = "targets met";
  while (s.eval(cur).metric > 1 && total(cur) < max_threads) {
    const double m = s.eval(cur).metric;
    double best_gain = 0;
    int best = -1;
    for (std::size_t p = 0; p < cur.size(); ++p) {
      auto cand = cur;
      cand[p]++;
      const double gain = (m - s.eval(cand).metric) / s.weights()[p];
      if (gain > best_gain) best_gain = gain, best = static_cast<int>(p);
    }
    // No thread buys even 0.1%: what is left is service time, not queueing; more threads only cost.
    if (best < 0 || best_gain * s.weights()[best] < 1e-3 * m) {
      c.stopped = "no single thread lowers the metric by 0.1% any more: the rest is service time, not queueing";
      break;
    }
    cur[best]++;
    step("add a thread", cur);
  }
  // Then take back threads the target does not need, the most expensive first.
  if (s.eval(cur).metric <= 1) {
    std::vector<std::size_t> order(cur.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s.weights()[a] > s.weights()[b]; });
    for (bool removed = true; removed;) {
      removed = false;
      for (std::size_t p : order) {
        if (cur[p] <= floor[p]) continue;
        auto cand = cur;
        cand[p]--;
        if (s.eval(cand).metric <= 1) {
          cur = cand;
          step("remove a thread", cur);
          removed = true;
          break;
        }
      }
    }
  }
  const Eval& e = s.eval(cur);
  if (e.metric > 1 && c.stopped == "targets met") c.stopped = "the thread budget (--max-threads) is spent";
  c.threads = cur;
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
  for (const auto& [kind, k] : result["kinds"].items()) worst = std::max(worst, k["wait_s"][name.substr(5)].get<double>());
  return worst;
}

TuneResult tune(const Scenario& sc, const TunePlan& plan) {
  if (plan.targets.empty()) throw std::invalid_argument("--target: give at least one, e.g. --target p95=300");
  if (!plan.weights.empty() && plan.weights.size() != sc.pools.size())
    throw std::invalid_argument("--weights: one cost per pool expected");
  if (!plan.rates.empty() && sc.arrivals.process == ArrivalSpec::Process::trace)
    throw std::invalid_argument("--rates: the scenario replays a trace of arrivals, which has no rate to scale");

  const int start_total = total(analytic_start(sc));
  const int max_threads = plan.max_threads > 0 ? plan.max_threads : 2 * start_total + 16;
  if (max_threads < start_total)
    throw std::invalid_argument("--max-threads " + std::to_string(max_threads) + ": below the " +
                                std::to_string(start_total) + " threads the pools need just to keep up (see `stepq analyze`)");

  // How many configurations the search will try is not known in advance: the line counts them.
  Progress progress("tune: search", "configurations simulated", 0, plan.progress);
  Search s(sc, plan, &progress);
  Chosen c = search(sc, plan, s, max_threads);
  progress.done();

  // Verify with seeds the search never saw.
  Scenario v = Search::with_threads(sc, c.threads);
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
  j["total_threads"] = total(c.threads);
  j["max_threads"] = max_threads;
  for (std::size_t p = 0; p < c.threads.size(); ++p) {
    auto& o = j["pools"][sc.pools[p].name];
    o["threads"] = c.threads[p];
    o["cost_per_thread"] = s.weights()[p];
    o["utilization"] = verified["pools"][sc.pools[p].name]["utilization"];
  }
  j["cost"] = s.cost(c.threads);
  j["startup_s"] = verified["startup_s"];
  for (const auto& t : plan.targets) j["verified_values"][t.name] = t.value(verified);
  j["verified"] = {{"seed", v.seed}, {"replications", plan.verify_replications},
                   {"met", [&] {
                      for (const auto& t : plan.targets)
                        if (t.value(verified) > t.seconds) return false;
                      return true;
                    }()}};
  if (!c.met) {
    j["best_reachable"] = ojson::object();
    for (std::size_t i = 0; i < plan.targets.size(); ++i) j["best_reachable"][plan.targets[i].name] = c.values[i];
  }
  j["search"] = {{"seed", sc.seed}, {"replications", plan.replications},
                 {"sessions", sc.sessions ? ojson(search_sessions(sc, plan)) : ojson("duration_s")},
                 {"evaluations", s.evaluations()}, {"stopped", c.stopped}, {"path", c.path}};

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
        const int mt = plan.max_threads > 0 ? plan.max_threads : 2 * total(analytic_start(sf_sc)) + 16;
        Chosen cf = search(sf_sc, plan, sf, mt);
        l["met"] = cf.met;
        l["threads"] = threads_json(sc, cf.threads);
        l["total_threads"] = total(cf.threads);
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
      Scenario sf = Search::with_threads(at_rate(sc, f), c.threads);
      const AnalyticResult a = analyze(sf);
      for (std::size_t p = 0; p < sf.pools.size(); ++p)
        if (a.pools[p].min_threads == 0 || a.pools[p].min_threads > c.threads[p]) return false;  // unstable
      Search probe(sf, plan, &progress);
      return probe.eval(c.threads).metric <= 1;
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
  return {c.threads, c.met, j};
}

std::string apply_threads(const std::string& text, const std::string& file, const Scenario& sc,
                          const std::vector<int>& threads) {
  auto j = nlohmann::ordered_json::parse(text, nullptr, true, /*ignore_comments=*/true);
  for (std::size_t p = 0; p < threads.size(); ++p) {
    const std::string& name = sc.pools[p].name;
    if (j.contains("pools")) j["pools"][name]["threads"] = threads[p];
    else j["kinds"][name]["threads"] = threads[p];  // without "pools", each kind is its own pool
  }
  std::string head = "// " + file + " with the pool sizes chosen by `stepq tune`:";
  for (std::size_t p = 0; p < threads.size(); ++p) head += " " + sc.pools[p].name + "=" + std::to_string(threads[p]);
  return head + "\n" + j.dump(2) + "\n";
}

}  // namespace stepq::sim
