// The analytic model behind `stepq analyze`: a scenario as an open network of M/G/c queues.
//
// Contract: analyze(sc) is a pure, deterministic function of a validated Scenario. It throws
// std::invalid_argument only for a trace whose arrivals all lie at t = 0 (no rate). Every pool
// gets a stability verdict; waits are present only for stable pools. Formulas: erlang.hpp.
// Checked against the simulator on scenarios/: mm4 exact; skaha-basic and broker-today mean
// waits within ~10%, start-up 5–15% low (fork-join, below); skaha-basic and srcnet-async mean
// transfer times per link within 5%, srcnet-async's rule polls per session within 2%.
//
// 1. Arrivals. λ = rate_per_s (poisson, periodic) or count / last time (trace). Ca² = 1 Poisson,
//    0 periodic, the inter-arrival SCV of a trace; every pool is given the external Ca².
//
// 2. Visits (claims) per session, and the traffic equations. Template t is picked with
//    probability w_t/Σw. A step of kind k is claimed
//      · A_k = (1 − p^m)/(1 − p) times for its attempts (m = max_attempts, p =
//        failure_probability; m when p = 1) — exact;
//      · × N for a poll kind, N = 1 + E⌈(R − a)/b⌉⁺: R = ready_after_s (2048 fixed draws; for a
//        poll that watches rules, the rules' ready time of §7), a = time from activation to the end
//        of the first poll, b = interval + wait + service (at their means);
//      · + re-checks (dependencies "recheck", steps with predecessors): Σ_j P(V < T − j·(recheck_s +
//        W)), V = the step's wait, T = its predecessors' finish, W = the mean wait (when a
//        predecessor was queued in the same batch, the two share V: ⌈(T − first claim)/cycle⌉ at
//        the means, smoothed). A re-check runs no handler: it holds a thread for claim_s only.
//    Visits and waits depend on each other: a damped fixed-point iteration (2 passes when there
//    are no polls or re-checks). As a routing matrix over kinds: P_kk = 1 − n_k/V_k (n_k steps,
//    V_k claims per session: retries, polls and re-checks are self-loops), P_ij = (1 − P_ii)·m_ij/n_i
//    where m_ij counts the steps of kind j whose designated predecessor (the one that finishes
//    last, queue-blind) is of kind i, and γ_j = λ·(root steps of kind j per session).
//    Copy i of an item with a count exists with probability P(count > i) (5040 stratified draws:
//    exact for an empirical count of n | 5040 samples); an absent copy is claimed once and done
//    at no cost, so it counts as a visit with no service.
//    (I − Pᵀ)λ = γ is solved with Eigen (partialPivLu); its solution is λ·V_k. Sessions that fail
//    cancel their other steps: ignored (every step counted: the load is an upper bound).
//
// 3. Service (thread held per claim). The step's service mean (its own service_s, else the
//    kind's) + claim_s per claim, + for a synchronous transfer item (a kind with a transfer and
//    no rule) the transfer over its route (§7): FTS waits + latency + bytes × the route's time
//    per byte, E[τ] and E[τ²] over its replica choices and its size distribution. A kind with a
//    `rule` holds its thread for the submit call only: the bytes move later and no thread waits
//    (they load the links and delay the poll that watches the rule, §7). A link with ρ ≥ 1 makes
//    the pools whose threads or polls wait for it unstable (a verdict of its own). A pool serving
//    several kinds sees the λ-weighted mixture (first and second moments → Cs²).
//
// 4. Waits. A pool is FIFO over its kinds. a = λ_pool·E[S], ρ = a/c; stable iff ρ < 1, else
//    min_threads = ⌊a⌋ + 1. A lone arrival waits Wq + D (+ claim_s, as the simulator measures
//    READY → claimed):
//      Wq = (Ca² + Cs²)/2 · C(c, a)/(cμ − λ)  (Allen–Cunneen; exact for M/M/c and M/G/1), with an
//           exponential tail P(Wq > t) = P_w·e^{−θt}, θ = P_w/E[Wq] (exact for M/M/c);
//      batches — steps of one pool made READY at (nearly: within a tenth of a service time) one
//           instant, e.g. a storage step's two data steps, or under "recheck" a session's every
//           step: Wq gets the M^X/M/c excess over M/M/c added (mxmc_wait; exact for one thread),
//           and the j-th of a batch also waits for a share of the work queued ahead of it;
//      D = poll-dispatch delay (mode "poll", interval I): P(D > t) = (1 − t/I)^n with mean
//           d = (I/2)/(1 + (0.37 − 0.25ρ)(c − 1)) — exact for c = 1 (M/G/1 with multiple
//           vacations), fitted to the simulator for c = 2…8 (within ~15%, ρ 0.2–0.8, I/E[S] 0.2–5).
//    Quantiles of Wq + D by bisection. "exact" = M/M/c holds: Poisson arrivals, exponential
//    service of one mean, notify, claim_s 0, no retries, polls, re-checks, failures or batches,
//    and the pool's steps are all roots.
//
// 5. Start-up (approximate). Per template, the critical path where a step finishes at its
//    activation (predecessors done; under "recheck", its first successful claim) + wait + service,
//    + for polls (N − 1)·b, + for retries (A − 1)·(wait + service) plus the expected backoffs
//    Σ_{j=2..m} p^{j−1}·backoff_before(j) (added to the mean path only: re-check and poll timing
//    follow the typical, retry-free path). Weighted mean over templates. Means are added where a
//    session waits for the slowest of several branches, and E[max] ≥ max E: the estimate is low
//    when branches are of similar length. Release steps load the pools like start-up steps
//    (once per session, a plan of their own from the session's end) but are not start-up.
//
// 6. Clusters. Sessions of the templates on a cluster hold a slot from admission until their
//    delete step completes: H = E[ready_after_s] + E[run_s] + the release path to the delete
//    (waits and service, as in 5). With identical constant requests the cluster has
//    c = Σ_nodes min(⌊cores/r_c⌋, ⌊memory/r_m⌋) slots, else about min(total cores/E[r_c], total
//    memory/E[r_m]) with requests weighted by how long they are held; λ_c = the sessions' rate on it. Pending wait:
//    Allen–Cunneen on (c, λ_c·H) with H's Cs², exact (Erlang C) for Poisson arrivals, identical requests, exponential
//    run time and nothing else in H. It is added to the poll step of those templates (polls during Pending included). A
//    per-user limit L makes each user an Erlang loss system: user u is refused with probability B(L, λ_c·p_u·(H +
//    pending)), and only admitted sessions load the cluster. Stable iff λ_c·H < c; else the verdict names the nodes (of
//    the first node group) that make it so.
//
// 7. Links (analytic_links.hpp). A transfer item's bytes cross every link of its route: per
//    replica choice (probability weight/Σweights) the route fastest alone at the item's mean size,
//    none when a replica is local (Scenario::source in expectation). Per link: λ_l = transfers
//    per second (× attempts for synchronous items, whose failed attempts move them too; × P(a
//    rule is made) = 1 − p^m for rules; × P(the copy exists)), S_l = mean size / bandwidth,
//    ρ_l = λ_l·S_l. Every transfer present shares the bandwidth (SimGrid), so the number present
//    is that of an M/M/1 queue, P(N = n) = (1 − ρ)ρⁿ, whatever the cap:
//      no cap: processor sharing, moving time latency + S/(1 − ρ) (M/G/1-PS: insensitive to
//           the size distribution), no wait;
//      cap c (FTS max_active): FIFO beyond c, Wq = E[(N − c)⁺]/λ = ρ^(c+1)/((1 − ρ)λ), moving
//           S/(1 − ρ) − Wq (+ latency); c = 1 is M/M/1 FCFS (Wq = ρS/(1 − ρ), moving S);
//      a route of several links moves at its slowest share: latency + bytes × max_l
//           slowdown_l/bandwidth_l (slowdown = 1/(1 − ρ) without a cap), its FTS waits summed.
//    Exact for one link, Poisson arrivals (one transfer per session, started as the session
//    arrives or after independent delays), exponential sizes under a cap; else marked
//    approximate (per link: links.L.approximations). ρ_l ≥ 1: "link L is overloaded".
//    simulate's links.L.transfer_s (slot taken → last byte, latency included) is compared with
//    the mean moving time of the routes crossing L, its queue_wait_s with Wq_l.
//    Rules: a poll that watches rules is ready, counted from its activation, after the largest
//    of its rule predecessors' delay + FTS waits + moving time (2048 draws of delay, replica and
//    size; mean waits). Approximate: the predecessors finished at different times, so the
//    earlier rules had a head start (high), and a copy's rule is made once however many attempts.
#pragma once
#include <limits>
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
  double utilization = 0;            // λ_k · service_mean_s / threads: the kind's share of its pool
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
  int min_threads = 1;           // ⌊a⌋ + 1; 0 when no number helps (a link it uses is overloaded)
  double erlang_c = 0;           // C(c, a): probability of waiting (M/M/c); 1 when unstable
  double allen_cunneen = 1;      // (Ca² + Cs²)/2
  double poll_delay_mean_s = 0;  // d (dispatch mode poll)
  std::optional<WaitEstimate> wait;
  bool exact = false;
  std::string model;                        // "M/M/c", "M/G/c Allen-Cunneen", …
  std::vector<std::string> approximations;  // why not exact, one short phrase each
};

struct ClusterEstimate {
  double slots = 0;               // sessions it can hold at once (c)
  bool identical = true;          // every request the same constant size: c is exact
  double arrival_rate_per_s = 0;  // λ_c, after per-user refusals
  double hold_mean_s = 0;         // H: admission → delete completed
  double hold_scv = 0;
  double offered_load = 0;  // λ_c·H: slots' worth of sessions
  double utilization = 0;   // λ_c·H / c
  bool stable = true;
  double erlang_c = 0;                  // C(c, a): probability of waiting Pending
  std::optional<WaitEstimate> pending;  // submitted → admitted (absent when unstable)
  double refused_share = 0;             // launches refused by the per-user limit
  int nodes_needed = 0;                 // least count of its first node group for stability (0: none helps)
  int nodes_at_80 = 0;                  // … for utilisation at or below 0.8
  bool exact = false;
  std::string model;
  std::vector<std::string> approximations;
};

struct LinkEstimate {
  std::string name;
  double bandwidth_Bps = 0;
  int max_active = 0;          // FTS cap (0: none)
  double transfers_per_s = 0;  // λ: transfers that cross it
  double mean_bytes = 0;
  double service_s = 0;    // S = mean bytes / bandwidth: a mean transfer alone, latency excluded
  double utilization = 0;  // ρ = λ·S: bytes per second / bandwidth (≥ 1: overloaded)
  bool stable = true;      // ρ < 1
  // As simulate measures them (absent when unstable or nothing crosses): moving = its slot taken
  // → last byte, the route's latency included; the wait for a slot at this link (0 without a cap).
  std::optional<double> transfer_mean_s, queue_wait_mean_s;
  bool exact = false;
  std::string model;                        // "M/G/1-PS", "M/M/1 work-conserving, cap 4", …
  std::vector<std::string> approximations;  // why not exact
};

struct AnalyticResult {
  double arrival_rate_per_s = 0;
  double arrival_scv = 1;
  std::optional<double> startup_mean_s;   // absent when a pool or cluster some template uses is unstable
  double prepare_cost_mean_s = 0;         // weighted total_prepare_cost_s: the broker's estimate
  std::vector<KindEstimate> kinds;        // indexed like Scenario::kinds
  std::vector<PoolEstimate> pools;        // indexed like Scenario::pools
  std::vector<LinkEstimate> links;        // indexed like Scenario::platform.links
  std::vector<ClusterEstimate> clusters;  // indexed like Scenario::platform.clusters
  std::vector<std::string> verdicts;      // unstable pools first, then a one-line summary
  std::vector<std::string> notes;         // what is approximate in this scenario
  int iterations = 0;                     // of the visits ↔ waits fixed point
  // The traffic equations as solved: routing (row-major n×n over kinds) and external rates γ.
  std::vector<double> routing, external_rate_per_s;
};

AnalyticResult analyze(const Scenario& sc);

// Solves the open-network traffic equations (I − Pᵀ)λ = γ (P row-major n×n, substochastic or a
// branching mean matrix with spectral radius < 1) with Eigen's partialPivLu.
std::vector<double> solve_traffic(const std::vector<double>& routing, const std::vector<double>& external);

// The wait of a lone arrival at a pool, claim_s excluded: Wq + D, independent, with
//   P(Wq > x) = C·e^{−θx}                       (θ = +infinity: no queueing wait),
//   P(D > t) = (1 − t/I)^n on [0, I]            (poll dispatch, interval I; I = 0: none) —
// the first wake-up of n idle threads that sleep I; n = 1 is uniform, exact for one thread.
struct WaitDistribution {
  double C = 0, theta = std::numeric_limits<double>::infinity(), interval = 0, n = 1;
  double mean() const;
  double tail(double t) const;      // P(Wq + D > t)
  double quantile(double p) const;  // smallest t with tail(t) ≤ 1 − p (bisection)
};

}  // namespace stepq
