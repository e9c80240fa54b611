// The analytic model behind `stepq analyze`: a scenario as an open network of M/G/c queues.
//
// Contract: analyze(sc) is a pure function of a validated Scenario; it never throws for one
// (a trace whose arrivals all lie at t = 0 has no rate: std::invalid_argument). Every pool gets
// a stability verdict; waits are present only for stable pools. The formulas are in erlang.hpp.
//
// The model, and where it is exact:
//
// 1. Arrivals. λ = rate_per_s (poisson, periodic) or count/last time (trace). Ca² = 1 for
//    Poisson, 0 periodic, the sample SCV of the inter-arrival times for a trace. Every pool is
//    given the external Ca² (flows inside the network are not re-characterised: approximate).
//
// 2. Visits (per session, per kind). Template t is picked with probability w_t/Σw. A step of
//    kind k is visited (claimed by a thread)
//      · A_k = (1 − p^m)/(1 − p) times for retries (m = max_attempts, p = failure_probability;
//        m when p = 1) — exact;
//      · × N polls for a poll kind: N = 1 + X + 1/2 for X > 0, else 1, where
//        X = (E[ready_after] − time to the end of the first poll) / (interval + Wq + S) — the
//        mean of a ceiling approximated by the mean plus one half (approximate);
//      · + R re-checks (dependencies "recheck", steps with predecessors): R = Y + 1/2 for Y > 0,
//        else 0, with Y = (T − Wq) / (recheck_s + Wq), T = the predecessors' mean finish time
//        on the start-up critical path (approximate; a re-check holds a thread for claim_s only).
//    These counts depend on the waits, the waits on the counts: a damped fixed-point iteration
//    (it converges in one step when there are no polls or re-checks).
//    As a routing matrix over kinds: P_kk = q_k = 1 − n_k/V_k (n_k steps, V_k visits of kind k per
//    session: retries, polls and re-checks are self-loops), P_ij = (1 − q_i)·m_ij/n_i where m_ij
//    counts the steps of kind j whose designated predecessor (the one that finishes last) is of
//    kind i, and γ_j = λ·(root steps of kind j per session). (I − Pᵀ)λ = γ is solved with Eigen
//    (partialPivLu); its solution is λ·V_k. Sessions that fail cancel their other steps: ignored
//    (every step is counted, so the load is an upper bound).
//
// 3. Service (thread held per visit). The step's service mean (its own service_s if set, else
//    the kind's), plus latency + bytes/bandwidth for transfer kinds (the simulator shares links
//    between concurrent transfers, so this is a lower bound); a re-check runs no handler (0 s).
//    Every claim adds claim_s. A pool serving several kinds sees the λ-weighted mixture of the
//    visits' first and second moments, hence its Cs² (Dist::scv-like, of the mixture).
//
// 4. Waits. Each pool is FIFO over its kinds, so all its kinds share one wait. Offered load
//    a = λ_pool·E[S], ρ = a/c; stable iff ρ < 1, else min_threads = ⌊a⌋ + 1. Stable: Erlang C,
//    Wq = (Ca² + Cs²)/2 · C/(cμ − λ) (Allen–Cunneen; exact for M/M/c), tail P(Wq > t) = C·e^{−θt}
//    with θ = (cμ − λ)/((Ca² + Cs²)/2) (exact for M/M/c; scaled to keep the mean otherwise).
//    Reported wait = Wq + D + claim_s, as the simulator measures it (READY → claimed, claim
//    query included). D is the poll-dispatch delay (dispatch mode "poll", interval I): uniform on
//    [0, 2·d] with d = (I/2) / (1 + (0.37 − 0.25ρ)(c − 1)) — exact for c = 1 (M/G/1 with multiple
//    vacations: every step waits I/2 more), an empirical fit to the simulator for c = 2…8 (within
//    ~15% for ρ 0.2–0.8, I/E[S] 0.2–5) otherwise. Quantiles of Wq + D by bisection.
//    "exact" = Poisson arrivals, exponential service of one mean, notify dispatch, claim_s 0, no
//    retries/polls/re-checks, no session failures, and at most one step of the pool per
//    template, a root (so the pool sees a thinned Poisson stream): M/M/c.
//
// 5. Start-up (approximate). Per template, the critical path where step s finishes at
//      activation (predecessors done) + [recheck: (recheck_s + Wq)/2 when it was re-checked] +
//      Wq + S, + for polls (N − 1)·(interval + Wq + S), + for retries (A − 1)·(Wq + S) plus the
//      expected backoffs Σ_{j=2..m} p^{j−1}·backoff_before(j);
//    the weighted mean over templates. Means are added where the session waits for the slowest
//    of several branches, and E[max] ≥ max E: the estimate is low when parallel branches are
//    of similar length.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "scenario.hpp"

namespace stepq {

struct WaitEstimate {
  double mean = 0, p50 = 0, p95 = 0, p99 = 0;  // seconds, READY → claimed
};

struct KindEstimate {
  double steps_per_session = 0;   // n_k
  double visits_per_session = 0;  // V_k: claims per session (retries, polls, re-checks included)
  double arrival_rate_per_s = 0;  // λ_k, from the traffic equations
  double service_mean_s = 0;      // handler time per visit (claim_s excluded), as simulate reports it
  double service_scv = 0;
  double utilization = 0;         // λ_k · service_mean_s / threads: the kind's share of its pool
  std::optional<WaitEstimate> wait;  // absent when the pool is unstable
};

struct PoolEstimate {
  double arrival_rate_per_s = 0;  // Σ λ_k
  double service_mean_s = 0;      // thread held per visit, claim_s included
  double service_scv = 0;         // Cs² of that mixture
  double arrival_scv = 0;         // Ca² used
  double offered_load = 0;        // a = λ·E[S], threads' worth of work
  double utilization = 0;         // ρ = a / threads
  bool stable = true;
  int min_threads = 1;            // ⌊a⌋ + 1
  double erlang_c = 0;            // C(c, a): probability of waiting (M/M/c); 1 when unstable
  double allen_cunneen = 1;       // (Ca² + Cs²)/2
  double poll_delay_mean_s = 0;   // d (dispatch mode poll)
  std::optional<WaitEstimate> wait;
  bool exact = false;
  std::string model;                        // "M/M/c", "M/G/c Allen-Cunneen", …
  std::vector<std::string> approximations;  // why not exact, one short phrase each
};

struct LinkEstimate {
  std::string name;
  double utilization = 0;  // transfer bytes per second / bandwidth (≥ 1: overloaded)
};

struct AnalyticResult {
  double arrival_rate_per_s = 0;
  double arrival_scv = 1;
  std::optional<double> startup_mean_s;  // absent when a pool some template uses is unstable
  double prepare_cost_mean_s = 0;        // weighted total_prepare_cost_s: the broker's estimate
  std::vector<KindEstimate> kinds;       // indexed like Scenario::kinds
  std::vector<PoolEstimate> pools;       // indexed like Scenario::pools
  std::vector<LinkEstimate> links;       // indexed like Scenario::platform.links
  std::vector<std::string> verdicts;     // unstable pools first, then a one-line summary
  std::vector<std::string> notes;        // what is approximate in this scenario
  int iterations = 0;                    // of the visits ↔ waits fixed point
  // The traffic equations as solved: routing (row-major n×n over kinds) and external rates γ.
  std::vector<double> routing, external_rate_per_s;
};

AnalyticResult analyze(const Scenario& sc);

// Solves the open-network traffic equations (I − Pᵀ)λ = γ (P row-major n×n, substochastic or a
// branching mean matrix with spectral radius < 1) with Eigen's partialPivLu.
std::vector<double> solve_traffic(const std::vector<double>& routing, const std::vector<double>& external);

// P(Wq + D > t) for the wait model above: P(Wq > x) = C·e^{−θx}, D uniform on [0, L].
// θ = +infinity means Wq = 0; L = 0 means no poll delay. And its inverse by bisection.
double wait_tail(double t, double C, double theta, double L);
double wait_quantile(double p, double C, double theta, double L);

}  // namespace stepq
