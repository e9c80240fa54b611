#include "analytic.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "analytic_links.hpp"
#include "erlang.hpp"
#include "rng.hpp"

namespace stepq {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kReadySamples = 2048;  // draws of a poll kind's ready_after_s (fixed seed)
// Stratified draws of an item's count: 5040 is divisible by 1…10, 12, 14, 15 and 16, so an
// empirical count of that many samples comes out exactly (see count_draw).
constexpr int kCountDraws = 5040;

std::string g3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// The inverse of splitmix64 (rng.hpp): each step of it is a bijection of 64-bit words.
constexpr std::uint64_t inverse_odd(std::uint64_t a) {  // a·x ≡ 1 mod 2⁶⁴ (Newton: bits double each step)
  std::uint64_t x = a;
  for (int i = 0; i < 6; ++i) x *= 2 - a * x;
  return x;
}
constexpr std::uint64_t unsplitmix64(std::uint64_t z) {
  z ^= (z >> 31) ^ (z >> 62);
  z *= inverse_odd(0x94d049bb133111ebULL);
  z ^= (z >> 27) ^ (z >> 54);
  z *= inverse_odd(0xbf58476d1ce4e5b9ULL);
  z ^= (z >> 30) ^ (z >> 60);
  return z - 0x9e3779b97f4a7c15ULL;
}
static_assert(unsplitmix64(splitmix64(12345)) == 12345);

// Draw j of N stratified draws of a count: a Stream whose first uniform() is (j + ½)/N (Stream's
// first word is splitmix64(key + γ), inverted here). Dist does not show an empirical
// distribution's samples, but one uniform picks one of its n samples, so for n | N each sample
// comes up exactly N/n times: P(count > i) is exact for those, within 1/N for other counts.
double count_draw(const Dist& count, int j, int n) {
  const auto k = static_cast<std::uint64_t>((j + 0.5) / n * 0x1.0p53);
  Stream s(unsplitmix64(k << 11) - 0x9e3779b97f4a7c15ULL);
  return count.sample(s);
}

// Mean of ⌈Y⌉⁺ when only the mean y of Y is known: → y + 1/2 for large y, → 0 as y → 0.
double ceil_mean(double y) { return y > 0 ? y + 0.5 - 0.5 * std::exp(-2 * y) : 0.0; }

// E[⌈(x − V)/cycle⌉⁺] for the wait V: the claims that come before the predecessors are done,
// at V, V + cycle, … while < x. = Σ_{j ≥ 0} P(V < x − j·cycle); the terms beyond `sure`, V's
// 1 − 1e-12 quantile, are 1 and are counted at once.
double expected_rechecks(const WaitDistribution& v, double sure, double x, double cycle) {
  if (x <= 0) return 0;
  double sum = 0, y = x;
  if (x >= sure) {
    const double n = std::floor((x - sure) / cycle) + 1;
    sum = n;
    y = x - n * cycle;
  }
  for (; y > 0; y -= cycle) sum += 1 - v.tail(y);
  return sum;
}

// One template step, with what does not change between fixed-point passes.
struct StepInfo {
  int kind = 0, pool = 0;
  double mean = 0, second = 0;     // handler time per claim: E[S], E[S²] (transfer included, absent copies as 0)
  double present = 1;              // P(this copy of an item with a count exists)
  double attempts = 1;             // claims per step (polls aside): A_k if present, 1 (at no cost) if absent
  bool exponential = false;        // handler time is exponential (no transfer added)
  bool watches = false;            // a poll that watches rules: `rule_ready` is its ready time
  std::vector<double> rule_ready;  // sorted draws: its rule predecessors' delay + transfer, the largest
  int parent = -1;                 // designated predecessor: the last to finish, queue-blind
  int group = -1, position = 0;    // batch: steps of one pool made READY at (nearly) one instant
  std::vector<int> ahead;          // steps of the same batch queued before this one
};

struct KindInfo {
  double attempts = 1;      // A_k
  double backoff_mean = 0;  // expected total backoff per step
  bool poll = false;
  double interval = 0;
  std::vector<double> ready;  // ready_after_s draws
};

struct Group {  // steps of one pool queued at (nearly) one instant, in queue order
  int pool = 0;
  std::vector<int> members;
};

// Per pool, what the next pass needs from the last one's queueing results.
struct PoolState {
  double single_wait = 0;     // a lone arrival's mean wait (claim and poll delay included)
  WaitDistribution dist;      // its distribution, claim excluded
  std::vector<double> ratio;  // [j]: share of the work ahead in its batch that position j waits for
};

// What one pass over the templates gives for the pools' current waits.
struct Pass {
  std::vector<double> visits_full, visits_recheck, s1, s2, position_sum;  // per kind, per session
  std::vector<double> spawn;                                              // n×n: m_ij per session
  std::vector<std::vector<double>> batches;   // per pool: [g−1] batches of g first visits per session
  std::vector<double> first_visits;           // per pool, per session
  std::vector<char> rechecked;                // per pool
  std::vector<std::vector<double>> rechecks;  // per template step: R
  double startup = 0;
  std::vector<double> release_to_delete;  // per template: release start → its delete completed
};

// Per cluster, what the next pass needs from the last one: the mean Pending wait.
struct ClusterNow {
  double lambda = 0, raw_lambda = 0, es = 0, es2 = 0, cs2 = 0, a = 0, rho = 0, C = 0, ac = 1;
  double slots = 0, refused = 0, pending = 0;
  double rc = 0, rm = 0;  // the request's cores and memory, weighted by how long each is held
  double run = 0;         // mean run time (the hold time less start latency and release)
  bool identical = true, stable = true;
  WaitDistribution dist;
};

struct PoolNow {  // pool statistics for the current λ
  double lambda = 0, es = 0, es2 = 0, cs2 = 0, a = 0, rho = 0, C = 0, ac = 1;
  double queue_wait = 0;  // Wq of a lone arrival (no claim, no poll delay)
  double d = 0;           // mean poll-dispatch delay
  WaitDistribution dist;  // of a lone arrival's wait, claim excluded
  double mean_wait = 0;   // over all visits, claim and poll delay included
  bool stable = true, batched = false, truncated = false;
  PoolState next;
};

class Model {
 public:
  explicit Model(const Scenario& sc)
      : sc_(sc), nk_(static_cast<int>(sc.kinds.size())), np_(static_cast<int>(sc.pools.size())), links_(sc) {
    arrivals();
    const double wsum = std::accumulate(sc.templates.begin(), sc.templates.end(), 0.0,
                                        [](double s, const TemplateSpec& t) { return s + t.weight; });
    for (const auto& t : sc.templates) weight_.push_back(t.weight / wsum);
    kind_infos();  // §2-3
    const bool recheck = sc.dispatch.dependencies == DispatchSpec::Dependencies::recheck;
    // §7 before the pools: the links' loads depend on the arrivals alone, so they are solved once.
    const Routing routing = load_links();
    steps_.resize(sc.templates.size());
    lease_renewals_.assign(sc.templates.size(), 0);
    steps_per_session_.assign(nk_, 0);
    roots_per_session_.assign(nk_, 0);
    overloaded_.assign(np_, -1);
    for (std::size_t t = 0; t < sc.templates.size(); ++t) {
      step_infos(t, routing);  // §3
      batches(t, recheck);     // §5
    }
    max_batch_.assign(np_, 1);
    for (const auto& gs : groups_)
      for (const auto& g : gs) max_batch_[g.pool] = std::max(max_batch_[g.pool], static_cast<int>(g.members.size()));
    prev_rechecks_.resize(sc.templates.size());
    for (std::size_t t = 0; t < sc.templates.size(); ++t) prev_rechecks_[t].assign(sc.templates[t].steps.size(), 0);
  }

 private:
  // The constructor's parts, in the order of the numbered sections of analytic.hpp.

  // Where each template's transfer items go: P(this copy of an item with a count exists), and
  // the routes it takes with their probabilities (replicas), per template and step.
  struct Routing {
    std::vector<std::vector<double>> present;
    std::vector<std::vector<std::vector<RouteShare>>> shares;
  };

  // §2-3 per kind: attempts and back-off per step, and a poll kind's ready-time samples.
  void kind_infos() {
    const Scenario& sc = sc_;
    kinds_.resize(nk_);
    for (int k = 0; k < nk_; ++k) {
      const KindSpec& ks = sc.kinds[k];
      KindInfo& ki = kinds_[k];
      const double p = ks.retry.failure_probability;
      const int m = ks.retry.max_attempts;
      ki.attempts = p >= 1 ? m : (1 - std::pow(p, m)) / (1 - p);
      double pj = 1;
      for (int j = 2; j <= m && j <= 100000; ++j) {
        pj *= p;  // P(attempt j happens) = p^(j−1)
        if (pj < 1e-300) break;
        ki.backoff_mean += pj * ks.retry.backoff_before(j);
      }
      if (ks.poll) {
        ki.poll = true;
        ki.interval = ks.poll->interval_s;
        Stream rng(derive(0x616e616c797a65ULL, static_cast<std::uint64_t>(k)));  // same draws every run
        for (int i = 0; i < kReadySamples; ++i) ki.ready.push_back(ks.poll->ready_after_s.sample(rng));
        std::sort(ki.ready.begin(), ki.ready.end());
      }
    }
  }

  // §7: every transfer of every session loads each link of its route; the link stations solved.
  Routing load_links() {
    const Scenario& sc = sc_;
    auto moves = [&](const PlanStep& ps) {
      const KindSpec& k = sc.kinds[ps.kind];
      return k.transfer && ps.bytes > 0 && !(k.op == Op::data && ps.mount == Mount::read_only);  // ReadOnly: linked
    };
    std::vector<std::vector<double>> present(sc.templates.size());
    std::vector<std::vector<std::vector<RouteShare>>> shares(sc.templates.size());
    link_pools_.resize(sc.platform.links.size());
    for (std::size_t t = 0; t < sc.templates.size(); ++t) {
      const TemplateSpec& tp = sc.templates[t];
      present[t].assign(tp.steps.size(), 1.0);
      shares[t].resize(tp.steps.size());
      std::vector<double> exists;  // P(count > i) of the item whose copies come next (copy 0 first)
      for (std::size_t i = 0; i < tp.steps.size(); ++i) {
        const PlanStep& ps = tp.steps[i];
        const KindSpec& ks = sc.kinds[ps.kind];
        if (ps.count) {
          if (ps.copy == 0) exists = copies_present(*ps.count);
          present[t][i] = ps.copy < static_cast<int>(exists.size()) ? exists[ps.copy] : 0.0;
        }
        if (!moves(ps)) continue;
        shares[t][i] = route_shares(sc, ps);
        // A synchronous attempt moves the bytes whether it then fails or not; a rule is made once,
        // when the step succeeds.
        const double per_step =
            ks.rule ? 1 - std::pow(ks.retry.failure_probability, ks.retry.max_attempts) : kinds_[ps.kind].attempts;
        const double rate = lambda0_ * weight_[t] * present[t][i] * per_step;
        for (const RouteShare& sh : shares[t][i]) {
          if (sh.route < 0) continue;
          links_.add(sh.route, rate * sh.probability, ps.bytes, ps.bytes_dist ? &*ps.bytes_dist : nullptr,
                     static_cast<int>(t), static_cast<int>(i), !ks.rule && kinds_[ps.kind].attempts > 1);
          for (int l : sc.platform.routes[sh.route].links) {
            auto& pl = link_pools_[l];
            if (std::find(pl.begin(), pl.end(), ks.pool) == pl.end()) pl.push_back(ks.pool);
          }
        }
      }
    }
    links_.solve();
    for (const auto& l : links_.links()) transfers_ = transfers_ || l.rate_per_s > 0;
    return {std::move(present), std::move(shares)};
  }

  // §3 per step of template t: its handler time per claim (transfer included), visits, roots.
  void step_infos(std::size_t t, const Routing& routing) {
    const Scenario& sc = sc_;
    const TemplateSpec& tp = sc.templates[t];
    const auto& present = routing.present;
    const auto& shares = routing.shares;
    for (std::size_t i = 0; i < tp.steps.size(); ++i) {
      const PlanStep& ps = tp.steps[i];
      const KindSpec& ks = sc.kinds[ps.kind];
      const KindInfo& ki = kinds_[ps.kind];
      const Dist& d = ps.service_s ? *ps.service_s : ks.service_s;
      // The transfer a thread waits for (synchronous style; a rule's bytes move with no thread):
      // τ = FTS waits + latency + bytes × the route's time per byte, E[τ] and E[τ²] over the
      // replica choices and the size distribution.
      double tau1 = 0, tau2 = 0;
      if (!ks.rule) {
        const double b1 = ps.bytes, b2 = ps.bytes_dist ? ps.bytes_dist->second_moment() : ps.bytes * ps.bytes;
        for (const RouteShare& sh : shares[t][i]) {
          if (sh.route < 0) continue;
          const double a = links_.waiting_s(sh.route) + sc.platform.routes[sh.route].latency_s;
          const double g = links_.per_byte_s(sh.route);
          tau1 += sh.probability * (a + g * b1);
          tau2 += sh.probability * (a * a + 2 * a * g * b1 + g * g * b2);
          if (const int l = links_.overloaded_link(sh.route); l >= 0) overloaded_[ks.pool] = l;
        }
      }
      StepInfo si;
      si.kind = ps.kind;
      si.pool = ks.pool;
      si.present = present[t][i];
      si.attempts = si.present * ki.attempts + (1 - si.present);
      const double m1 = d.mean(), run = si.present * ki.attempts / si.attempts;  // claims that run the handler
      si.mean = run * (m1 + tau1);
      si.second = run * (d.second_moment() + 2 * tau1 * m1 + tau2);
      si.exponential = d.type() == Dist::Type::exponential && tau1 == 0 && si.present == 1;
      if (ks.poll && ks.poll->watch_rules) {
        si.watches = true;
        si.rule_ready = rule_ready(static_cast<int>(t), static_cast<int>(i), shares[t]);
        for (int q : tp.preds(static_cast<int>(i)))
          if (sc.kinds[tp.steps[q].kind].rule)
            for (const RouteShare& sh : shares[t][q])
              if (sh.route >= 0)
                if (const int l = links_.overloaded_link(sh.route); l >= 0) overloaded_[ks.pool] = l;
      }
      steps_[t].push_back(std::move(si));
      if (static_cast<int>(i) != tp.lease_step) steps_per_session_[ps.kind] += weight_[t];
      if (static_cast<int>(i) == tp.lease_step) {
        // Lease renewals arrive while the session runs, every every_s: E[⌊run_s / every_s⌋]
        // per session (from the same fixed draws every run), no step of either plan.
        Stream rng(derive(0x6c65617365ULL, t));
        double renewals = 0;
        for (int k = 0; k < kReadySamples; ++k)
          renewals += std::floor(tp.session->run_s.sample(rng) / tp.lease->every_s) / kReadySamples;
        lease_renewals_[t] = renewals;
        steps_per_session_[ps.kind] += weight_[t] * renewals;  // each renewal claimed once
        roots_per_session_[ps.kind] += weight_[t] * renewals;
      } else if (tp.preds(static_cast<int>(i)).empty()) {
        roots_per_session_[ps.kind] += weight_[t];
      }
    }
  }

  // §5 per template: queue-blind activation and finish times, and the batches of steps of one
  // pool made READY together.
  void batches(std::size_t t, bool recheck) {
    const TemplateSpec& tp = sc_.templates[t];
    // Queue-blind activation and finish times: the designated parent of a step is its
    // predecessor that finishes last; steps of one pool activated within a tenth of a service
    // time of each other are queued as one batch.
    // The release plan's times count from the session's end, like the start-up's from accept.
    std::vector<double> blind(tp.steps.size(), 0), activation(tp.steps.size(), 0);
    std::vector<int> order = tp.plan.topo;
    order.insert(order.end(), tp.release_plan.topo.begin(), tp.release_plan.topo.end());
    for (int s : order) {
      StepInfo& si = steps_[t][s];
      double T = 0;
      for (int q : tp.preds(s))
        if (si.parent < 0 || blind[q] >= T) T = blind[q], si.parent = q;
      activation[s] = T;
      blind[s] = T + si.mean * si.attempts + (kinds_[si.kind].poll ? mean_of(ready(static_cast<int>(t), s)) : 0);
    }
    // Batches: activate — the steps of one pool made READY (nearly) together, in that order;
    // recheck — every step of the session in that pool, at accept, in template order.
    std::vector<Group> groups;
    for (int p = 0; p < np_; ++p)
      for (int part = 0; part < 2; ++part) {  // start-up, then release: READY at different times
        const int from = part ? tp.startup_steps : 0, to = part ? static_cast<int>(tp.steps.size()) : tp.startup_steps;
        std::vector<int> in;
        for (int i = from; i < to; ++i)
          if (steps_[t][i].pool == p) in.push_back(i);
        if (!recheck)
          std::stable_sort(in.begin(), in.end(), [&](int x, int y) { return activation[x] < activation[y]; });
        double opened = -kInf;
        bool fresh = true;
        for (int i : in) {
          StepInfo& si = steps_[t][i];
          if (fresh || (!recheck && activation[i] - opened > 0.1 * si.mean)) {
            groups.push_back({p, {}});
            opened = activation[i];
            fresh = false;
          }
          auto& g = groups.back().members;
          si.ahead = g;
          si.position = static_cast<int>(g.size());
          si.group = static_cast<int>(groups.size()) - 1;
          g.push_back(i);
        }
      }
    groups_.push_back(std::move(groups));
  }

 public:
  AnalyticResult run() {
    AnalyticResult r;
    r.arrival_rate_per_s = lambda0_;
    r.arrival_scv = ca2_;
    for (std::size_t t = 0; t < sc_.templates.size(); ++t)
      r.prepare_cost_mean_s += weight_[t] * sc_.templates[t].total_prepare_cost_s;

    std::vector<PoolState> state(np_);
    for (int p = 0; p < np_; ++p) {
      state[p].single_wait = sc_.dispatch.claim_s;
      state[p].ratio.assign(max_batch_[p], sc_.pools[p].threads == 1 ? 1.0 : 0.0);
    }
    std::vector<double> lam;
    std::vector<PoolNow> pools;
    std::vector<ClusterNow> clusters(sc_.platform.clusters.size()), next_clusters;
    Pass ps;
    bool unstable = false;
    int it = 0;
    for (it = 1; it <= 500; ++it) {
      ps = pass(state, clusters);
      prev_rechecks_ = ps.rechecks;
      lam = traffic(ps, nullptr, nullptr);
      pools = pool_stats(ps, lam);
      next_clusters = cluster_stats(ps, clusters);
      unstable = std::any_of(pools.begin(), pools.end(), [](const PoolNow& p) { return !p.stable; }) ||
                 std::any_of(next_clusters.begin(), next_clusters.end(), [](const ClusterNow& c) { return !c.stable; });
      if (unstable) break;
      double delta = 0;
      for (int p = 0; p < np_; ++p)
        delta = std::max(delta,
                         std::abs(pools[p].next.single_wait - state[p].single_wait) / (1 + pools[p].next.single_wait));
      for (std::size_t c = 0; c < clusters.size(); ++c)
        delta =
            std::max(delta, std::abs(next_clusters[c].pending - clusters[c].pending) / (1 + next_clusters[c].pending));
      if (delta < 1e-10) break;
      // Undamped first (usually enough), then damped in case visits and waits oscillate.
      const double keep = it < 5 ? 0 : 0.5;
      for (int p = 0; p < np_; ++p) {
        state[p].single_wait = keep * state[p].single_wait + (1 - keep) * pools[p].next.single_wait;
        state[p].dist = pools[p].next.dist;
        for (std::size_t j = 0; j < state[p].ratio.size(); ++j)
          state[p].ratio[j] = keep * state[p].ratio[j] + (1 - keep) * pools[p].next.ratio[j];
      }
      for (std::size_t c = 0; c < clusters.size(); ++c) {
        const double pending = keep * clusters[c].pending + (1 - keep) * next_clusters[c].pending;
        clusters[c] = next_clusters[c];
        clusters[c].pending = pending;
      }
    }
    r.iterations = std::min(it, 500);
    lam = traffic(ps, &r.routing, &r.external_rate_per_s);
    if (!unstable) r.startup_mean_s = ps.startup;

    fill_pools(r, ps, pools);
    fill_links(r);
    fill_kinds(r, ps, lam, pools);
    fill_clusters(r, next_clusters);
    verdicts(r);
    return r;
  }

 private:
  void arrivals() {
    const ArrivalSpec& a = sc_.arrivals;
    switch (a.process) {
      case ArrivalSpec::Process::poisson: lambda0_ = a.rate_per_s, ca2_ = 1; break;
      case ArrivalSpec::Process::periodic: lambda0_ = a.rate_per_s, ca2_ = 0; break;
      case ArrivalSpec::Process::trace: {
        const auto& t = a.times;
        if (t.empty() || t.back() <= 0)
          throw std::invalid_argument("trace " + a.trace_file + ": all arrivals at t = 0 give no arrival rate");
        lambda0_ = static_cast<double>(t.size()) / t.back();
        ca2_ = 1;
        if (t.size() >= 3) {
          double s = 0, s2 = 0;
          const double n = static_cast<double>(t.size() - 1);
          for (std::size_t i = 1; i < t.size(); ++i) {
            const double g = t[i] - t[i - 1];
            s += g, s2 += g * g;
          }
          const double m = s / n;
          if (m > 0) ca2_ = std::max(0.0, s2 / n / (m * m) - 1);
        }
        break;
      }
    }
  }

  // P(count > i) for each copy i of an item with a count (copies rounded as Scenario::absent does).
  static std::vector<double> copies_present(const Dist& count) {
    std::vector<double> p(static_cast<std::size_t>(std::max(0L, std::lround(count.upper_bound()))), 0.0);
    for (int j = 0; j < kCountDraws; ++j) {
      const long n = std::lround(count_draw(count, j, kCountDraws));
      for (long i = 0; i < n && i < static_cast<long>(p.size()); ++i) p[i] += 1.0 / kCountDraws;
    }
    return p;
  }

  // §7: the ready time of a poll that watches rules, counted from its activation: the largest of
  // its rule predecessors' delay + transfer (FTS waits at their means, moving time for the size
  // drawn), drawn kReadySamples times (fixed seed). Copies of one item share one count draw.
  std::vector<double> rule_ready(int t, int s, const std::vector<std::vector<RouteShare>>& shares) const {
    const TemplateSpec& tp = sc_.templates[t];
    std::vector<int> rules;
    for (int q : tp.preds(s))
      if (sc_.kinds[tp.steps[q].kind].rule && !shares[q].empty()) rules.push_back(q);
    std::vector<double> out;
    if (rules.empty()) return out;
    Stream rng(derive(derive(0x72756c6573ULL, static_cast<std::uint64_t>(t)), static_cast<std::uint64_t>(s)));
    std::vector<std::pair<int, long>> counts;  // (first copy, count) of this draw
    for (int j = 0; j < kReadySamples; ++j) {
      counts.clear();
      double most = 0;
      for (int q : rules) {
        const PlanStep& ps = tp.steps[q];
        if (ps.count) {
          auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == ps.first_copy; });
          if (it == counts.end()) it = counts.emplace(counts.end(), ps.first_copy, std::lround(ps.count->sample(rng)));
          if (ps.copy >= it->second) continue;
        }
        const double u = rng.uniform();
        double cum = 0;
        int route = -1;
        for (const RouteShare& sh : shares[q])
          if (route = sh.route; u < (cum += sh.probability)) break;
        if (route < 0) continue;
        const double b = ps.bytes_dist ? ps.bytes_dist->sample(rng) : ps.bytes;
        const double delay = sc_.kinds[ps.kind].rule->delay_s.sample(rng);
        most = std::max(most, delay + links_.waiting_s(route) + links_.moving_s(route, b));
      }
      out.push_back(most);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // A poll step's ready-time draws (sorted): its kind's ready_after_s, or its rules' (above).
  const std::vector<double>& ready(int t, int s) const {
    const StepInfo& si = steps_[t][s];
    return si.watches ? si.rule_ready : kinds_[si.kind].ready;
  }
  static double mean_of(const std::vector<double>& v) {
    return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  }

  // E[⌈(R − a)/b⌉⁺] over a poll's ready-time draws r (sorted): the polls after the first.
  // = Σ_{j ≥ 0} P(R > a + j·b), by binary search when there are fewer terms than draws.
  static double extra_polls(const std::vector<double>& r, double a, double b) {
    const double n = static_cast<double>(r.size());
    if (r.empty() || r.back() <= a) return 0;
    if ((r.back() - a) / b < n / 8) {
      double count = 0;
      for (double x = a; x < r.back(); x += b)
        count += static_cast<double>(r.end() - std::upper_bound(r.begin(), r.end(), x));
      return count / n;
    }
    double sum = 0;
    for (double x : r)
      if (x > a) sum += std::ceil((x - a) / b);
    return sum / n;
  }

  // Visits and the start-up critical path for the pools' and clusters' current waits.
  Pass pass(const std::vector<PoolState>& st, const std::vector<ClusterNow>& cl) const {
    Pass r;
    r.visits_full.assign(nk_, 0);
    r.visits_recheck.assign(nk_, 0);
    r.s1.assign(nk_, 0);
    r.s2.assign(nk_, 0);
    r.position_sum.assign(nk_, 0);
    r.spawn.assign(static_cast<std::size_t>(nk_) * nk_, 0);
    r.batches.resize(np_);
    for (int p = 0; p < np_; ++p) r.batches[p].assign(max_batch_[p], 0);
    r.first_visits.assign(np_, 0);
    r.rechecked.assign(np_, 0);
    r.rechecks.resize(sc_.templates.size());
    const bool recheck = sc_.dispatch.dependencies == DispatchSpec::Dependencies::recheck;
    const double claim = sc_.dispatch.claim_s;
    std::vector<double> sure(np_, 0);
    if (recheck)
      for (int p = 0; p < np_; ++p) sure[p] = st[p].dist.quantile(1 - 1e-12);
    // Two finish times per step: `typical` leaves out retries (rare, and long: their mean
    // smeared over every session would delay re-check and poll timing that usually does not
    // move), `mean` adds their expected cost; the start-up is the critical path of the means.
    std::vector<double> typical, mean;
    r.release_to_delete.assign(sc_.templates.size(), 0);
    for (std::size_t t = 0; t < sc_.templates.size(); ++t) {
      const TemplateSpec& tp = sc_.templates[t];
      const Plan& plan = tp.plan;
      const double wt = weight_[t];
      // A poll on a cluster sees its session Running ready_after_s after admission: after the
      // cluster's Pending wait (not one that watches rules: they do not wait for the cluster).
      const double pending = tp.clustered() ? cl[tp.session->cluster].pending : 0;
      for (const auto& g : groups_[t]) r.batches[g.pool][g.members.size() - 1] += wt;
      typical.assign(plan.size(), 0);
      mean.assign(plan.size(), 0);
      r.rechecks[t].assign(plan.size(), 0);
      double last = 0;
      std::vector<int> order = plan.topo;
      order.insert(order.end(), tp.release_plan.topo.begin(), tp.release_plan.topo.end());
      for (int s : order) {
        const bool release = s >= tp.startup_steps;
        const StepInfo& si = steps_[t][s];
        const KindInfo& ki = kinds_[si.kind];
        const int c = sc_.pools[si.pool].threads;
        const double W = st[si.pool].single_wait;
        // Queued behind the earlier steps of its batch: their first visits' thread time (a
        // step re-checked at its first visit holds the thread for the claim only).
        double ahead = 0;
        for (int i : si.ahead) ahead += claim + std::max(0.0, 1 - prev_rechecks_[t][i]) * steps_[t][i].mean;
        const double position = si.position > 0 ? st[si.pool].ratio[si.position] * ahead / c : 0;
        double T = 0, T_mean = 0;  // activation: the predecessors' finish
        int last_pred = -1;
        for (int q : tp.preds(s)) {
          if (last_pred < 0 || typical[q] > T) T = typical[q], last_pred = q;
          T_mean = std::max(T_mean, mean[q]);
        }
        const double first = (recheck ? 0 : T) + W + position;
        double start = first, rechecks = 0;
        if (recheck && !tp.preds(s).empty()) {
          // READY at accept; re-checked every recheck_s + W until its predecessors are done.
          const double cycle = sc_.dispatch.recheck_s + W;
          // A predecessor queued in the same batch shared its queueing wait: compare means.
          // Otherwise the wait is independent of T: average over its distribution.
          rechecks = steps_[t][last_pred].group == si.group
                         ? ceil_mean((T - first) / cycle)
                         : expected_rechecks(st[si.pool].dist, sure[si.pool], T - claim - position, cycle);
          start = first + rechecks * cycle;
          if (rechecks > 0) r.rechecked[si.pool] = 1;
        }
        double end = start + si.mean, polls = 1;
        if (ki.poll) {  // ready at T (+ Pending) + ready_after; polls end at end, end + cycle, …
          const double cycle = ki.interval + W + si.mean;
          const double extra = extra_polls(ready(static_cast<int>(t), s), end - T - (si.watches ? 0 : pending), cycle);
          polls += extra;
          end += extra * cycle;
        }
        typical[s] = end;
        mean[s] = T_mean + (end - T) + (si.attempts - 1) * (W + si.mean) + si.present * ki.backoff_mean;
        if (!release) last = std::max(last, mean[s]);
        else if (sc_.kinds[si.kind].op == Op::remove)
          r.release_to_delete[t] = std::max(r.release_to_delete[t], mean[s]);
        r.rechecks[t][s] = rechecks;

        const double full = si.attempts * polls;
        r.visits_full[si.kind] += wt * full;
        r.visits_recheck[si.kind] += wt * rechecks;
        r.s1[si.kind] += wt * full * si.mean;
        r.s2[si.kind] += wt * full * si.second;
        r.position_sum[si.kind] += wt * position;
        r.first_visits[si.pool] += wt;
        if (si.parent >= 0) r.spawn[static_cast<std::size_t>(steps_[t][si.parent].kind) * nk_ + si.kind] += wt;
      }
      r.startup += wt * last;
      if (tp.lease_step >= 0) {  // renewals: visits of their own, outside both plans
        const StepInfo& si = steps_[t][tp.lease_step];
        const double n = lease_renewals_[t];
        r.visits_full[si.kind] += wt * n;
        r.s1[si.kind] += wt * n * si.mean;
        r.s2[si.kind] += wt * n * si.second;
      }
    }
    return r;
  }

  // Routing matrix and external arrivals of the pass, and their solution λ_k.
  std::vector<double> traffic(const Pass& ps, std::vector<double>* routing, std::vector<double>* gamma) const {
    std::vector<double> P(static_cast<std::size_t>(nk_) * nk_, 0), g(nk_, 0);
    for (int i = 0; i < nk_; ++i) {
      g[i] = lambda0_ * roots_per_session_[i];
      const double n = steps_per_session_[i];
      const double v = ps.visits_full[i] + ps.visits_recheck[i];
      if (n <= 0 || v <= 0) continue;
      const double q = 1 - n / v;  // revisit: retry, poll, re-check
      P[static_cast<std::size_t>(i) * nk_ + i] += q;
      for (int j = 0; j < nk_; ++j)
        P[static_cast<std::size_t>(i) * nk_ + j] += (1 - q) * ps.spawn[static_cast<std::size_t>(i) * nk_ + j] / n;
    }
    std::vector<double> lam = solve_traffic(P, g);
    if (routing) *routing = std::move(P);
    if (gamma) *gamma = std::move(g);
    return lam;
  }

  std::vector<PoolNow> pool_stats(const Pass& ps, const std::vector<double>& lam) const {
    const double claim = sc_.dispatch.claim_s;
    std::vector<PoolNow> out(np_);
    for (int p = 0; p < np_; ++p) {
      const PoolSpec& pool = sc_.pools[p];
      PoolNow& o = out[p];
      double m1 = 0, m2 = 0, position_sum = 0;  // position_sum: per session
      for (int k : pool.kinds) {
        const double v = ps.visits_full[k] + ps.visits_recheck[k];
        if (lam[k] <= 0 || v <= 0) continue;
        const double mk = ps.s1[k] / v, m2k = ps.s2[k] / v;  // handler time per visit
        o.lambda += lam[k];
        m1 += lam[k] * (mk + claim);
        m2 += lam[k] * (m2k + 2 * claim * mk + claim * claim);
        position_sum += ps.position_sum[k];
      }
      const int c = pool.threads;
      if (o.lambda > 0) {
        o.es = m1 / o.lambda;
        o.es2 = m2 / o.lambda;
        o.cs2 = o.es > 0 ? std::max(0.0, o.es2 / (o.es * o.es) - 1) : 0;
      }
      o.a = o.lambda * o.es;
      o.rho = o.a / c;
      o.stable = o.a < c && overloaded_[p] < 0;
      o.C = erlang_c(c, o.a);
      o.ac = allen_cunneen_factor(ca2_, o.cs2);
      o.next.ratio.assign(max_batch_[p], 0);
      if (!o.stable) {
        o.queue_wait = o.mean_wait = o.next.single_wait = kInf;
        o.dist.C = 1;
        o.dist.theta = 0;
        o.next.dist = o.dist;
        continue;
      }
      const double mmc = o.a > 0 ? o.C * o.es / (c - o.a) : 0;  // C/(cμ − λ)
      o.queue_wait = o.ac * mmc;
      double wait_probability = o.C;
      if (max_batch_[p] > 1 && o.lambda > 0 && o.es > 0) {
        // Batch arrivals: the M^X/M/c excess over M/M/c, added to the Allen–Cunneen wait (exact
        // for M^X/G/1, where the batch term does not depend on the service distribution).
        std::vector<double> pmf = ps.batches[p];
        pmf[0] += std::max(0.0, o.lambda / lambda0_ - ps.first_visits[p]);  // revisits come alone
        const double batches_per_session = std::accumulate(pmf.begin(), pmf.end(), 0.0);
        for (double& x : pmf) x /= batches_per_session;
        const BatchWait bw = mxmc_wait(c, lambda0_ * batches_per_session, pmf, o.es);
        o.batched = true;
        o.truncated = bw.truncated;
        o.queue_wait = std::max(0.0, o.queue_wait + bw.head_wait - mmc);
        wait_probability = bw.head_wait_probability;
        for (int j = 1; j < max_batch_[p]; ++j)
          o.next.ratio[j] = std::clamp(bw.position_excess[j] * c / o.es / j, 0.0, 1.0);
      }
      o.dist.C = wait_probability;
      o.dist.theta = o.queue_wait > 0 && wait_probability > 0 ? wait_probability / o.queue_wait : kInf;
      if (sc_.dispatch.mode == DispatchSpec::Mode::poll) {
        const double I = sc_.dispatch.poll_interval_s;
        o.d = I / 2 / (1 + (0.37 - 0.25 * o.rho) * (c - 1));
        o.dist.interval = I;
        o.dist.n = I / o.d - 1;  // mean I/(n + 1) = d
      }
      o.next.dist = o.dist;
      o.next.single_wait = o.queue_wait + o.d + claim;
      o.mean_wait = o.next.single_wait + (o.lambda > 0 ? lambda0_ * position_sum / o.lambda : 0);
    }
    return out;
  }

  // Section 6: each cluster's slots, hold time, per-user refusals and Pending wait for this pass.
  std::vector<ClusterNow> cluster_stats(const Pass& ps, const std::vector<ClusterNow>& prev) const {
    std::vector<ClusterNow> out(sc_.platform.clusters.size());
    for (std::size_t c = 0; c < out.size(); ++c) {
      const ClusterSpec& spec = sc_.platform.clusters[c];
      ClusterNow& o = out[c];
      double w = 0, h1 = 0, h2 = 0, rc = 0, rm = 0, run = 0, first_c = -1, first_m = -1;
      for (std::size_t t = 0; t < sc_.templates.size(); ++t) {
        const TemplateSpec& tp = sc_.templates[t];
        if (!tp.clustered() || tp.session->cluster != static_cast<int>(c)) continue;
        const SessionSpec& ss = *tp.session;
        double ready = 0;  // the start latency: its (first) cluster poll's mean ready_after_s
        for (const PlanStep& st : tp.steps)
          if (const KindSpec& k = sc_.kinds[st.kind]; k.poll && !k.poll->watch_rules) {
            ready = mean_of(kinds_[st.kind].ready);
            break;
          }
        const double c0 = ready + ps.release_to_delete[t], m = ss.run_s.mean();
        const double wt = weight_[t];
        w += wt;
        h1 += wt * (c0 + m);
        run += wt * m;
        h2 += wt * (c0 * c0 + 2 * c0 * m + ss.run_s.second_moment());
        // Requests weighted by how long they are held: a cluster's mix is its sessions in flight.
        rc += wt * (c0 + m) * ss.cores.mean();
        rm += wt * (c0 + m) * ss.memory_GB.mean();
        const bool constant = ss.cores.type() == Dist::Type::constant && ss.memory_GB.type() == Dist::Type::constant;
        if (first_c < 0) first_c = ss.cores.mean(), first_m = ss.memory_GB.mean();
        o.identical = o.identical && constant && ss.cores.mean() == first_c && ss.memory_GB.mean() == first_m;
        o.raw_lambda += lambda0_ * wt;
      }
      if (w <= 0) continue;  // no template runs here
      rc /= h1, rm /= h1;
      o.rc = rc, o.rm = rm, o.run = run / w;
      o.es = h1 / w;
      o.es2 = h2 / w;
      o.cs2 = o.es > 0 ? std::max(0.0, o.es2 / (o.es * o.es) - 1) : 0;
      o.slots = slots(spec, rc, rm, o.identical, -1);
      if (spec.user_limit > 0 && sc_.arrivals.users) {  // each user an Erlang loss system
        const UsersSpec& u = *sc_.arrivals.users;
        const double hold = o.es + prev[c].pending;
        double prev_cdf = 0;
        for (std::uint64_t k = 0; k < u.count; ++k) {
          const double p = u.cdf.empty() ? 1.0 / static_cast<double>(u.count) : u.cdf[k] - prev_cdf;
          if (!u.cdf.empty()) prev_cdf = u.cdf[k];
          o.refused += p * erlang_b(spec.user_limit, o.raw_lambda * p * hold);
          if (u.cdf.empty()) {  // all alike: one term tells all
            o.refused = erlang_b(spec.user_limit, o.raw_lambda * p * hold);
            break;
          }
        }
      }
      o.lambda = o.raw_lambda * (1 - o.refused);
      o.a = o.lambda * o.es;
      o.rho = o.slots > 0 ? o.a / o.slots : kInf;
      o.stable = o.a < o.slots;
      o.C = o.stable ? erlang_c(static_cast<int>(o.slots), o.a) : 1;
      o.ac = allen_cunneen_factor(ca2_, o.cs2);
      if (!o.stable) {
        o.pending = kInf;
        o.dist.C = 1;
        o.dist.theta = 0;
        continue;
      }
      o.pending = o.a > 0 ? o.ac * o.C * o.es / (o.slots - o.a) : 0;
      o.dist.C = o.C;
      o.dist.theta = o.pending > 0 && o.C > 0 ? o.C / o.pending : kInf;
    }
    return out;
  }

  // Slots of a cluster for requests of (rc, rm), or with its first node group at `count` nodes
  // (count < 0: as declared): exact for identical requests, the fluid bound otherwise.
  static double slots(const ClusterSpec& spec, double rc, double rm, bool identical, int count) {
    double n = 0, cores = 0, memory = 0;
    for (std::size_t g = 0; g < spec.nodes.size(); ++g) {
      const double k = g == 0 && count >= 0 ? count : spec.nodes[g].count;
      const NodeGroup& ng = spec.nodes[g];
      n += k * std::min(std::floor(ng.cores / rc + 1e-9), std::floor(ng.memory_GB / rm + 1e-9));
      cores += k * ng.cores, memory += k * ng.memory_GB;
    }
    return identical ? n : std::floor(std::min(cores / rc, memory / rm) + 1e-9);
  }

  void fill_clusters(AnalyticResult& r, const std::vector<ClusterNow>& now) const {
    const bool poisson = sc_.arrivals.process == ArrivalSpec::Process::poisson;
    for (std::size_t c = 0; c < now.size(); ++c) {
      const ClusterSpec& spec = sc_.platform.clusters[c];
      const ClusterNow& o = now[c];
      ClusterEstimate e;
      e.slots = o.slots;
      e.identical = o.identical;
      e.arrival_rate_per_s = o.lambda;
      e.hold_mean_s = o.es;
      e.hold_scv = o.cs2;
      e.offered_load = o.a;
      e.utilization = o.rho;
      e.stable = o.stable;
      e.erlang_c = o.C;
      e.refused_share = o.refused;
      if (o.stable && o.lambda > 0) {
        WaitEstimate we;
        we.mean = o.pending;
        we.p50 = o.dist.quantile(0.5);
        we.p95 = o.dist.quantile(0.95);
        we.p99 = o.dist.quantile(0.99);
        e.pending = we;
      } else if (o.lambda <= 0) {
        e.pending = WaitEstimate{};
      }
      // The least count of the first node group that holds the offered load (slots grow with it),
      // for the requests cluster_stats weighted.
      if (o.rc > 0 && o.rm > 0) {
        auto least = [&](double need) {  // the least count whose slots exceed `need`, or 0
          int lo = 0, hi = 10'000'000;
          if (!(slots(spec, o.rc, o.rm, o.identical, hi) > need)) return 0;
          while (lo < hi) {
            const int mid = lo + (hi - lo) / 2;
            if (slots(spec, o.rc, o.rm, o.identical, mid) > need) hi = mid;
            else lo = mid + 1;
          }
          return std::max(lo, 1);
        };
        e.nodes_needed = least(o.a);
        e.nodes_at_80 = least(o.a / 0.8 - 1e-9);
      }
      auto& why = e.approximations;
      if (!poisson) why.push_back("arrivals not Poisson (Ca2 " + g3(ca2_) + ")");
      if (!o.identical) why.push_back("requests of different sizes: slots from total cores and memory");
      if (std::abs(o.cs2 - 1) > 1e-9) why.push_back("hold time not exponential (Cs2 " + g3(o.cs2) + ")");
      else if (std::abs(o.es - o.run) > 1e-9 * o.es)
        why.push_back("start latency and release time add to the run time");
      if (spec.user_limit > 0) why.push_back("per-user limit: refusals from Erlang B per user");
      e.exact = why.empty();
      e.model = std::string(poisson ? "M" : "G") + "/" + (e.exact ? "M" : "G") + "/c cluster slots" +
                (e.exact ? "" : " Allen-Cunneen");
      r.clusters.push_back(std::move(e));
    }
  }

  WaitEstimate wait_estimate(const PoolNow& o, double shift) const {
    const double claim = sc_.dispatch.claim_s;
    WaitEstimate we;
    we.mean = o.next.single_wait + shift;
    we.p50 = o.dist.quantile(0.50) + claim + shift;
    we.p95 = o.dist.quantile(0.95) + claim + shift;
    we.p99 = o.dist.quantile(0.99) + claim + shift;
    return we;
  }

  void fill_pools(AnalyticResult& r, const Pass& ps, const std::vector<PoolNow>& now) {
    const double claim = sc_.dispatch.claim_s;
    const bool poisson = sc_.arrivals.process == ArrivalSpec::Process::poisson;
    const bool poll_dispatch = sc_.dispatch.mode == DispatchSpec::Mode::poll;
    bool failures = false;
    for (int k = 0; k < nk_; ++k)
      if (steps_per_session_[k] > 0 && sc_.kinds[k].retry.failure_probability > 0) failures = true;
    const char* arrival_letter = poisson ? "M" : sc_.arrivals.process == ArrivalSpec::Process::periodic ? "D" : "GI";

    for (int p = 0; p < np_; ++p) {
      const PoolNow& o = now[p];
      PoolEstimate e;
      e.arrival_rate_per_s = o.lambda;
      e.service_mean_s = o.es;
      e.service_scv = o.cs2;
      e.arrival_scv = ca2_;
      e.offered_load = o.a;
      e.utilization = o.rho;
      e.stable = o.stable;
      e.min_threads = overloaded_[p] >= 0 ? 0 : min_stable_threads(o.a);
      e.erlang_c = o.C;
      e.allen_cunneen = o.ac;
      e.poll_delay_mean_s = o.d;
      if (o.stable) e.wait = wait_estimate(o, o.mean_wait - o.next.single_wait);

      // Why M/M/c is not exact here.
      auto& why = e.approximations;
      bool exp_service = true, one_mean = true, internal = false, retries = false, polls = false, absent = false;
      double first_mean = -1;
      for (std::size_t t = 0; t < sc_.templates.size(); ++t)
        for (std::size_t s = 0; s < steps_[t].size(); ++s) {
          const StepInfo& si = steps_[t][s];
          if (si.pool != p) continue;
          if (si.parent >= 0) internal = true;
          if (!si.exponential) exp_service = false;
          if (first_mean < 0) first_mean = si.mean;
          else if (std::abs(si.mean - first_mean) > 1e-12 * first_mean) one_mean = false;
          if (kinds_[si.kind].attempts > 1) retries = true;
          if (kinds_[si.kind].poll) polls = true;
          if (si.present < 1) absent = true;
        }
      if (!poisson)
        why.push_back(std::string(sc_.arrivals.process == ArrivalSpec::Process::periodic ? "periodic" : "trace") +
                      " arrivals, not Poisson (Ca2 " + g3(ca2_) + ")");
      if (!exp_service) why.push_back("service not exponential (Cs2 " + g3(o.cs2) + ")");
      else if (!one_mean) why.push_back("kinds with different mean service share the pool");
      if (o.batched) why.push_back("batches: several steps READY at once (M^X/M/c correction)");
      if (internal) why.push_back("steps created by other steps' completion");
      if (retries) why.push_back("retries");
      if (polls) why.push_back("polls");
      if (absent) why.push_back("copies a session does not have (claimed at no cost)");
      if (ps.rechecked[p]) why.push_back("re-checks");
      if (poll_dispatch) why.push_back("poll dispatch delay (fitted)");
      if (claim > 0) why.push_back("claim cost");
      if (failures) why.push_back("failed sessions cancel steps (ignored)");
      if (o.truncated) why.push_back("batch state space truncated");
      e.exact = why.empty();

      const bool m_service = exp_service && one_mean && claim == 0 && !ps.rechecked[p];
      e.model = std::string(arrival_letter) + (o.batched ? "^X" : "") + "/" +
                (m_service       ? "M"
                 : o.cs2 < 1e-12 ? "D"
                                 : "G") +
                "/c";
      if (!(poisson && m_service)) e.model += " Allen-Cunneen";
      if (poll_dispatch) e.model += " + poll delay";
      r.pools.push_back(std::move(e));
    }
  }

  // §7: the link stations, after the pools (a pool whose threads queue shapes its transfers' arrivals).
  void fill_links(AnalyticResult& r) const {
    const bool poisson = sc_.arrivals.process == ArrivalSpec::Process::poisson;
    const auto& links = links_.links();
    for (std::size_t l = 0; l < links.size(); ++l) {
      const LinkNetwork::Link& k = links[l];
      LinkEstimate e;
      e.name = k.name;
      e.bandwidth_Bps = k.bandwidth_Bps;
      e.max_active = k.max_active;
      e.transfers_per_s = k.rate_per_s;
      e.mean_bytes = k.mean_bytes();
      e.service_s = k.station.service_s;
      e.utilization = k.station.rho;
      e.stable = k.station.stable;
      if (e.stable && k.rate_per_s > 0) {
        e.transfer_mean_s = k.moving_sum / k.rate_per_s;
        e.queue_wait_mean_s = k.station.wait_s;
      }
      auto [model, why] = links_.describe(static_cast<int>(l), poisson);
      // A pool that seldom queues passes its Poisson arrivals on almost unchanged (nothing waits:
      // departures are arrivals shifted by independent service times, still Poisson).
      for (int p : link_pools_[l])
        if (r.pools[p].stable && r.pools[p].erlang_c > 0.05)
          why.push_back("its transfers start after waits for pool " + sc_.pools[p].name + " (P(wait) " +
                        g3(r.pools[p].erlang_c) + ")");
      e.model = std::move(model);
      e.approximations = std::move(why);
      e.exact = e.approximations.empty();
      r.links.push_back(std::move(e));
    }
  }

  void fill_kinds(AnalyticResult& r, const Pass& ps, const std::vector<double>& lam, const std::vector<PoolNow>& now) {
    for (int k = 0; k < nk_; ++k) {
      const int p = sc_.kinds[k].pool;
      KindEstimate e;
      e.steps_per_session = steps_per_session_[k];
      e.visits_per_session = ps.visits_full[k] + ps.visits_recheck[k];
      e.arrival_rate_per_s = lam[k];
      double shift = 0;  // mean wait behind earlier steps of the same batch, per visit
      if (e.visits_per_session > 0) {
        e.service_mean_s = ps.s1[k] / e.visits_per_session;
        const double m2 = ps.s2[k] / e.visits_per_session;
        e.service_scv = e.service_mean_s > 0 ? std::max(0.0, m2 / (e.service_mean_s * e.service_mean_s) - 1) : 0;
        shift = ps.position_sum[k] / e.visits_per_session;
      } else {
        const Dist& d = sc_.kinds[k].service_s;
        e.service_mean_s = d.mean();
        e.service_scv = d.scv();
      }
      e.utilization = lam[k] * e.service_mean_s / sc_.pools[p].threads;
      if (now[p].stable) e.wait = wait_estimate(now[p], shift);
      r.kinds.push_back(e);
    }
  }

  void verdicts(AnalyticResult& r) {
    int busiest = -1;
    for (int p = 0; p < np_; ++p) {
      const PoolEstimate& e = r.pools[p];
      const std::string& name = sc_.pools[p].name;
      const int c = sc_.pools[p].threads;
      if (!e.stable && overloaded_[p] >= 0) continue;  // said once per link, below
      if (!e.stable) {
        r.verdicts.push_back("pool " + name + " is unstable: offered load " + g3(e.offered_load) +
                             " threads' worth of work on " + std::to_string(c) + " thread" + (c == 1 ? "" : "s") +
                             " (utilization " + g3(e.utilization) + "); it needs at least " +
                             std::to_string(e.min_threads) + " threads");
        continue;
      }
      if (busiest < 0 || e.utilization > r.pools[busiest].utilization) busiest = p;
    }
    for (const LinkEstimate& ll : r.links) {
      if (ll.stable) continue;
      const int l = static_cast<int>(&ll - r.links.data());
      std::string pools;
      for (int p = 0; p < np_; ++p)
        if (overloaded_[p] == l) pools += (pools.empty() ? "" : ", ") + sc_.pools[p].name;
      r.verdicts.push_back(
          "link " + ll.name + " is overloaded: transfers need " + g3(ll.utilization * ll.bandwidth_Bps / 1e6) +
          " MB/s of its " + g3(ll.bandwidth_Bps / 1e6) + " MB/s (utilization " + g3(ll.utilization) + "); " +
          (pools.empty() ? "its transfers" : "pools " + pools) + " cannot keep up whatever their threads");
    }
    for (std::size_t c = 0; c < r.clusters.size(); ++c) {
      const ClusterEstimate& e = r.clusters[c];
      const ClusterSpec& spec = sc_.platform.clusters[c];
      if (e.stable) continue;
      r.verdicts.push_back(
          "cluster " + spec.name + " cannot keep up: sessions hold " + g3(e.offered_load) + " slots' worth of time (" +
          g3(e.arrival_rate_per_s) + "/s x " + g3(e.hold_mean_s) + " s) on " + g3(e.slots) + " slots; " +
          (e.nodes_needed > 0 ? "it needs at least " + std::to_string(e.nodes_needed) +
                                    " nodes in its first node group (has " + std::to_string(spec.nodes[0].count) + ")"
                              : "no number of its first group's nodes fits a session"));
    }
    const bool any_unstable = !r.verdicts.empty();
    for (int p = 0; p < np_; ++p) {
      const PoolEstimate& e = r.pools[p];
      if (e.stable && e.utilization >= 0.9) {
        const int for80 = static_cast<int>(std::ceil(e.offered_load / 0.8 - 1e-9));
        r.verdicts.push_back("pool " + sc_.pools[p].name + " runs at utilization " + g3(e.utilization) +
                             ": its waits grow steeply with load; " + std::to_string(std::max(for80, 1)) +
                             " threads keep it at or below 0.8");
      }
    }
    for (std::size_t c = 0; c < r.clusters.size(); ++c) {
      const ClusterEstimate& e = r.clusters[c];
      if (e.stable && e.utilization >= 0.9 && e.pending)
        r.verdicts.push_back("cluster " + sc_.platform.clusters[c].name + " runs at utilization " + g3(e.utilization) +
                             ": sessions wait Pending " + g3(e.pending->mean) +
                             " s on average, and Pending grows "
                             "steeply with load; " +
                             std::to_string(e.nodes_at_80) + " nodes in its first node group keep it at or below 0.8");
      else if (e.stable && e.pending)  // Pending is start-up too: say what it costs even when calm
        r.verdicts.push_back(
            "cluster " + sc_.platform.clusters[c].name + " runs at utilization " + g3(e.utilization) +
            ": sessions wait Pending " + g3(e.pending->mean) + " s on average (p95 " + g3(e.pending->p95) + " s)" +
            (e.utilization > 0.8
                 ? "; " + std::to_string(e.nodes_at_80) + " nodes in its first node group keep it at or below 0.8"
                 : ""));
      if (e.refused_share > 0.01)
        r.verdicts.push_back("cluster " + sc_.platform.clusters[c].name + ": the per-user limit refuses " +
                             g3(100 * e.refused_share) + "% of launches");
    }
    if (!any_unstable && busiest >= 0) {
      const PoolEstimate& b = r.pools[busiest];
      r.verdicts.push_back(std::string(np_ == 1 ? "the pool is stable" : "all pools are stable") + "; the busiest is " +
                           sc_.pools[busiest].name + " at utilization " + g3(b.utilization) + " (" +
                           std::to_string(sc_.pools[busiest].threads) +
                           (sc_.pools[busiest].threads == 1 ? " thread" : " threads") + ", mean wait " +
                           g3(b.wait ? b.wait->mean : 0) + " s)");
    }

    // What is approximate, scenario-wide.
    r.notes.push_back(
        "start-up is the critical path of mean step times: where a step waits for the slowest of "
        "several branches, E[max] >= max E, so it is low when branches are of similar length");
    bool polls = false, batches = false;
    for (int k = 0; k < nk_; ++k) polls |= kinds_[k].poll && steps_per_session_[k] > 0;
    for (const auto& p : r.pools)
      for (const auto& a : p.approximations) batches |= a.rfind("batches", 0) == 0;
    if (batches)
      r.notes.push_back(
          "batches (steps of one pool READY at the same instant): the M^X/M/c excess wait is "
          "added to the Allen-Cunneen wait (exact for one thread)");
    if (polls)
      r.notes.push_back("polls: counted from " + std::to_string(kReadySamples) +
                        " fixed draws of ready_after_s, with each poll cycle at its mean length");
    if (sc_.dispatch.dependencies == DispatchSpec::Dependencies::recheck)
      r.notes.push_back("re-checks: their number is estimated from the predecessors' mean finish time");
    if (transfers_)
      r.notes.push_back(
          "links: every transfer present shares the bandwidth, so a link is M/M/1-like whatever its cap: "
          "without one, processor sharing (moving time latency + S/(1 - rho)); with an FTS cap c, FIFO "
          "beyond c (slot wait S rho^c/(1 - rho)); a thread waiting for a transfer holds it for both");
    for (const LinkEstimate& l : r.links)
      if (!l.exact && l.transfers_per_s > 0) {
        std::string why;
        for (const auto& a : l.approximations) why += (why.empty() ? "" : "; ") + a;
        r.notes.push_back("link " + l.name + " (" + l.model + ") is approximate: " + why);
      }
    bool watches = false;
    for (const auto& st : steps_)
      for (const StepInfo& si : st) watches = watches || (si.watches && !si.rule_ready.empty());
    if (watches)
      r.notes.push_back(
          "rules: a poll that watches them is ready after the largest rule delay + transfer of its data "
          "steps, counted from its activation (high when there are several: the earlier ones started "
          "sooner), FTS waits at their means");
    bool counts = false;
    for (const auto& st : steps_)
      for (const StepInfo& si : st) counts = counts || si.present < 1;
    if (counts)
      r.notes.push_back(
          "items with a count: a copy a session does not have is claimed and done at no cost; the "
          "others load their pools and links with the probability that they exist");
    if (sc_.dispatch.mode == DispatchSpec::Mode::poll)
      r.notes.push_back(
          "poll dispatch: idle threads wake every poll_interval_s; the added wait is exact for "
          "1 thread and an empirical fit for more");
    if (sc_.arrivals.process != ArrivalSpec::Process::poisson)
      r.notes.push_back("non-Poisson arrivals: Allen-Cunneen with the external Ca2 at every pool");
    for (int k = 0; k < nk_; ++k)
      if (steps_per_session_[k] > 0 && sc_.kinds[k].retry.failure_probability > 0) {
        r.notes.push_back("failures: steps of sessions that fail are counted as if they ran (load is an upper bound)");
        break;
      }
  }

  const Scenario& sc_;
  const int nk_, np_;
  LinkNetwork links_;
  std::vector<std::vector<int>> link_pools_;  // per link: the pools whose steps send transfers over it
  double lambda0_ = 0, ca2_ = 1;
  bool transfers_ = false;
  std::vector<double> weight_;
  std::vector<KindInfo> kinds_;
  std::vector<std::vector<StepInfo>> steps_;
  std::vector<std::vector<Group>> groups_;  // per template
  std::vector<double> lease_renewals_;      // per template: renewals per session
  std::vector<int> overloaded_;             // per pool: a link its transfers overload, or −1
  std::vector<int> max_batch_;              // per pool
  std::vector<double> steps_per_session_, roots_per_session_;
  std::vector<std::vector<double>> prev_rechecks_;  // per template step, from the last pass
};

}  // namespace

std::vector<double> solve_traffic(const std::vector<double>& routing, const std::vector<double>& external) {
  const auto n = static_cast<Eigen::Index>(external.size());
  if (n == 0) return {};
  Eigen::MatrixXd P(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) P(i, j) = routing[static_cast<std::size_t>(i * n + j)];
  const Eigen::VectorXd gamma = Eigen::Map<const Eigen::VectorXd>(external.data(), n);
  const Eigen::VectorXd lam = (Eigen::MatrixXd::Identity(n, n) - P.transpose()).partialPivLu().solve(gamma);
  std::vector<double> out(external.size());
  for (Eigen::Index i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = std::max(0.0, lam(i));
  return out;
}

double WaitDistribution::mean() const {
  return (C > 0 && !std::isinf(theta) ? C / theta : 0) + (interval > 0 ? interval / (n + 1) : 0);
}

double WaitDistribution::tail(double t) const {
  if (t < 0) return 1;
  const bool queue = C > 0 && !std::isinf(theta);
  if (interval <= 0) return queue ? C * std::exp(-theta * t) : 0;
  double s = t < interval ? std::pow(1 - t / interval, n) : 0;  // P(D > t)
  if (queue) {
    // ∫₀^min(t,I) f_D(u)·C·e^{−θ(t−u)} du, f_D(u) = (n/I)(1 − u/I)^{n−1}: 16-point Gauss–Legendre.
    static constexpr double x[8] = {0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438,
                                    0.7554044083550030, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499};
    static constexpr double w[8] = {0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767,
                                    0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541};
    const double m = std::min(t, interval), h = m / 2;
    auto f = [&](double u) {
      return n / interval * std::pow(1 - u / interval, n - 1) * C * std::exp(-theta * (t - u));
    };
    double integral = 0;
    for (int i = 0; i < 8; ++i) integral += w[i] * (f(h - h * x[i]) + f(h + h * x[i]));
    s += integral * h;
  }
  return std::min(1.0, s);
}

double WaitDistribution::quantile(double p) const {
  const double q = 1 - p;
  const bool queue = C > 0 && !std::isinf(theta);
  if (interval <= 0) return !queue || C <= q ? 0 : std::log(C / q) / theta;
  double lo = 0, hi = interval + (!queue || C <= q ? 0 : std::log(C / q) / theta);
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = (lo + hi) / 2;
    (tail(mid) > q ? lo : hi) = mid;
  }
  return hi;
}

AnalyticResult analyze(const Scenario& sc) { return Model(sc).run(); }

}  // namespace stepq
