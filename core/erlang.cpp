#include "erlang.hpp"

#include <cmath>
#include <limits>

namespace stepq {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

double erlang_b(int c, double a) {
  double b = 1;  // B₀
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  return b;
}

double erlang_c(int c, double a) {
  if (a <= 0) return 0;
  if (a >= c) return 1;
  const double b = erlang_b(c, a);
  const double rho = a / c;
  return b / (1 - rho * (1 - b));
}

double mmc_mean_wait(int c, double lambda, double mean_service_s) {
  const double a = lambda * mean_service_s;
  if (a >= c) return kInf;
  if (a <= 0) return 0;
  return erlang_c(c, a) / ((c - a) / mean_service_s);  // cμ − λ = (c − a)/E[S]
}

double mmc_wait_quantile(int c, double lambda, double mean_service_s, double p) {
  const double a = lambda * mean_service_s;
  if (a >= c) return kInf;
  if (a <= 0) return 0;
  const double C = erlang_c(c, a);
  if (C <= 1 - p) return 0;
  return std::log(C / (1 - p)) / ((c - a) / mean_service_s);
}

double allen_cunneen_factor(double ca2, double cs2) { return (ca2 + cs2) / 2; }

double ggc_mean_wait(int c, double lambda, double mean_service_s, double ca2, double cs2) {
  const double w = mmc_mean_wait(c, lambda, mean_service_s);
  return w == 0 || std::isinf(w) ? w : allen_cunneen_factor(ca2, cs2) * w;
}

BatchWait mxmc_wait(int c, double batch_rate, const std::vector<double>& size_pmf, double mean_service_s) {
  BatchWait r;
  const int K = static_cast<int>(size_pmf.size());
  r.position_excess.assign(K, 0);
  double ex = 0;
  for (int g = 1; g <= K; ++g) ex += g * size_pmf[g - 1];
  const double mu = 1 / mean_service_s, a = batch_rate * ex * mean_service_s;
  if (K == 0 || batch_rate <= 0) return r;
  if (a >= c) {
    r.head_wait = r.mean_wait = kInf;
    r.head_wait_probability = 1;
    for (auto& e : r.position_excess) e = kInf;
    return r;
  }
  std::vector<double> tail(K);  // P(X > k)
  for (int k = K - 1; k >= 0; --k) tail[k] = size_pmf[k] + (k + 1 < K ? tail[k + 1] : 0);
  std::vector<double> low(c, 0);   // p_n for n < c, for the position excess
  std::vector<double> ring(K, 0);  // the last K values, p_n at ring[n % K]
  double S = 0, SH = 0, SHW = 0, SL = 0, prev = kInf;
  double p = 1;  // p_0, unnormalised
  constexpr long kMaxStates = 20000000;
  long n = 0;
  for (;; ++n) {
    ring[n % K] = p;
    if (n < c) low[n] = p;
    S += p;
    if (n >= c) SH += p, SHW += (n - c + 1) * p, SL += (n - c) * p;
    if (n > c + K && p < 1e-17 * S && p <= prev) break;
    if (n >= kMaxStates) {
      r.truncated = true;
      break;
    }
    prev = p;
    double up = 0;  // λ_b Σ_{k=0}^{min(n,K−1)} p_{n−k} P(X > k)
    for (int k = 0; k < K && k <= n; ++k) up += ring[(n - k) % K] * tail[k];
    p = batch_rate * up / (mu * std::min<long>(n + 1, c));
    if (p > 1e250) {  // rescale everything kept so far
      constexpr double s = 1e-250;
      for (auto& v : ring) v *= s;
      for (auto& v : low) v *= s;
      S *= s, SH *= s, SHW *= s, SL *= s, p *= s, prev *= s;
    }
  }
  const double cmu = c * mu;
  r.head_wait_probability = SH / S;
  r.head_wait = SHW / S / cmu;
  double below = 0;  // P(n < c − 1)
  for (int m = 0; m < c - 1; ++m) below += low[m] / S;
  for (int j = 0; j < K; ++j) {
    double e = j * (1 - below);
    for (int m = std::max(0, c - j); m <= c - 2; ++m) e += low[m] / S * (m + j - c + 1);
    r.position_excess[j] = e / cmu;
  }
  r.queue_length = SL / S;
  double w = 0;
  for (int g = 1; g <= K; ++g)
    for (int j = 0; j < g; ++j) w += size_pmf[g - 1] * (r.head_wait + r.position_excess[j]);
  r.mean_wait = w / ex;
  return r;
}

int min_stable_threads(double a) { return a < 0 ? 1 : static_cast<int>(std::floor(a)) + 1; }

}  // namespace stepq
