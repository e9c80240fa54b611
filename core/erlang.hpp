// Queueing formulas for one pool of c identical threads (research/simulation.md §4).
//
// Notation: c threads; arrival rate λ (per s); mean service time E[S] = 1/μ (s); offered load
// a = λ/μ (threads' worth of work); utilisation ρ = a/c. A pool is stable only if ρ < 1.
//
//   Erlang B, by the recursion that stays finite for any c (c = 1000 and beyond):
//       B₀ = 1,   B_k = a·B_{k−1} / (k + a·B_{k−1})
//   Erlang C (probability that an arrival waits), from B = B_c:
//       C(c, a) = B / (1 − ρ(1 − B))
//   M/M/c mean wait in queue:          Wq = C / (cμ − λ)
//   M/M/c wait distribution:           P(Wq > t) = C · e^{−(cμ−λ)t}
//   M/M/c p-quantile of the wait:      t_p = ln(C / (1 − p)) / (cμ − λ)  if C > 1 − p, else 0
//   G/G/c, Allen–Cunneen (approximate, exact for M/M/c and for M/G/1 by Pollaczek–Khinchine):
//       Wq ≈ (Ca² + Cs²)/2 · Wq(M/M/c)
//   with Ca², Cs² the squared coefficients of variation of inter-arrival and service times.
//
// Contract: pure functions, no I/O; only mxmc_wait allocates (its working arrays, O(c + batch
// sizes)). When ρ ≥ 1 the waits are +infinity and
// erlang_c is 1 (every arrival waits, the queue grows without bound).
#pragma once
#include <vector>

namespace stepq {

// Batch Poisson arrivals (M^X/M/c): batches arrive at rate batch_rate, a batch holds g customers
// with probability size_pmf[g − 1], served first-come first-served (a batch in its own order).
// The stationary number in system p_n comes from the cut equations
//     p_{n+1} · μ·min(n + 1, c) = λ_b · Σ_{i ≤ n} p_i · P(X > n − i),
// and, since batches see time averages (PASTA), the customer at position j (0-based) of a batch
// that finds n in the system waits (n + j − c + 1)⁺ completions at rate cμ.
struct BatchWait {
  double head_wait = 0;                 // mean wait of a batch's first customer (and of a lone arrival)
  double head_wait_probability = 0;     // P(n ≥ c): the first customer waits
  double mean_wait = 0;                 // over customers
  double queue_length = 0;              // Lq; Little: mean_wait = Lq / (batch_rate·E[X])
  std::vector<double> position_excess;  // [j]: mean wait of position j minus head_wait
  bool truncated = false;               // the state space was cut off before the tail vanished
};
// Stable systems only (λ_b·E[X]·mean_service_s < c); otherwise every wait is +infinity.
BatchWait mxmc_wait(int c, double batch_rate, const std::vector<double>& size_pmf, double mean_service_s);

// Erlang B: probability that all c servers are busy in the loss system M/M/c/c. c ≥ 0, a ≥ 0.
double erlang_b(int c, double a);

// Erlang C: probability that an arrival must wait in M/M/c. 1 when a ≥ c.
double erlang_c(int c, double a);

// M/M/c mean wait in queue (s), λ in 1/s, mean_service_s = 1/μ. +infinity when unstable.
double mmc_mean_wait(int c, double lambda, double mean_service_s);

// M/M/c p-quantile of the wait in queue (s), 0 < p < 1: P(Wq > t_p) = 1 − p. +infinity when unstable.
double mmc_wait_quantile(int c, double lambda, double mean_service_s, double p);

// Allen–Cunneen factor (Ca² + Cs²)/2 that turns an M/M/c wait into a G/G/c estimate.
double allen_cunneen_factor(double ca2, double cs2);

// G/G/c mean wait in queue by Allen–Cunneen: allen_cunneen_factor(ca2, cs2) · mmc_mean_wait(…).
double ggc_mean_wait(int c, double lambda, double mean_service_s, double ca2, double cs2);

// The fewest threads that keep a pool with offered load a stable (a/c < 1): ⌊a⌋ + 1.
int min_stable_threads(double a);

}  // namespace stepq
