#include "fit.hpp"

#include <algorithm>
#include <boost/math/distributions/exponential.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/weibull.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace stepq {

namespace {

// sup |F_n − F| over a sorted sample: the largest gap just before or just after a step of F_n.
template <class D>
double ks_distance(const std::vector<double>& sorted, const D& d) {
  const double n = static_cast<double>(sorted.size());
  double ks = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const double f = boost::math::cdf(d, sorted[i]);
    ks = std::max({ks, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return ks;
}

Fit make(std::string family, Dist dist, std::vector<double> params, double log_l, int k, double ks, std::size_t n) {
  Fit f;
  f.family = std::move(family);
  f.dist = std::move(dist);
  f.params = std::move(params);
  f.log_likelihood = log_l;
  f.aic = 2 * k - 2 * log_l;
  f.ks = ks;
  f.ks_p = ks_p_value(ks, n);
  return f;
}

}  // namespace

double ks_p_value(double d, std::size_t n) {
  const double rn = std::sqrt(static_cast<double>(n));
  const double t = (rn + 0.12 + 0.11 / rn) * d;
  if (t < 0.3) return 1;  // the series below needs many terms there, and the answer is 1 to 1e-8
  double q = 0;
  for (int j = 1; j <= 100; ++j) q += (j % 2 ? 2 : -2) * std::exp(-2.0 * j * j * t * t);
  return std::clamp(q, 0.0, 1.0);
}

std::vector<Fit> fit_families(const std::vector<double>& xs) {
  if (xs.size() < 2) throw std::invalid_argument("a fit needs at least 2 durations");
  std::vector<double> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  if (!(sorted.front() > 0)) throw std::invalid_argument("a fit needs durations > 0");
  const std::size_t count = sorted.size();
  const double n = static_cast<double>(count);
  double mean = 0, mean_log = 0;
  for (double x : sorted) mean += x, mean_log += std::log(x);
  mean /= n, mean_log /= n;
  double var_log = 0;
  for (double x : sorted) var_log += (std::log(x) - mean_log) * (std::log(x) - mean_log);
  var_log /= n;
  const double sum_log = n * mean_log;

  std::vector<Fit> fits;
  // A family whose fit or CDF cannot be computed for this sample (Boost.Math throws an
  // evaluation_error, e.g. a gamma shape of 1e13 from durations equal to 1e-7) is left out.
  auto guarded = [&](auto&& fit) {
    try {
      fit();
    } catch (const std::exception&) {
    }
  };
  fits.push_back(make("exponential", Dist::exponential(mean), {mean}, -n * std::log(mean) - n, 1,
                      ks_distance(sorted, boost::math::exponential_distribution<>(1 / mean)), count));
  if (var_log > 0) {  // all equal: no spread to fit, and only the exponential is defined
    const double mu = mean_log, sigma = std::sqrt(var_log);
    const double log_l = -sum_log - n * std::log(sigma) - n / 2 * std::log(2 * std::numbers::pi) - n / 2;
    guarded([&] {
      fits.push_back(make("lognormal", Dist::lognormal_mu_sigma(mu, sigma), {mu, sigma}, log_l, 2,
                          ks_distance(sorted, boost::math::lognormal_distribution<>(mu, sigma)), count));
    });

    guarded([&] {
      // Gamma: the shape solves ln a − ψ(a) = ln(mean) − mean(ln x) (Newton from Minka's start).
      // Nearly equal durations (s → 0) give shapes so large that Boost's CDF cannot be evaluated:
      // such a family is left out (guarded, above), not a reason to stop.
      const double s = std::log(mean) - mean_log;
      double a = (3 - s + std::sqrt((s - 3) * (s - 3) + 24 * s)) / (12 * s);
      for (int i = 0; i < 100; ++i) {
        const double step = (std::log(a) - boost::math::digamma(a) - s) / (1 / a - boost::math::trigamma(a));
        const double next = a - step > 0 ? a - step : a / 2;
        const bool done = std::abs(next - a) < 1e-12 * a;
        a = next;
        if (done) break;
      }
      const double theta = mean / a;
      const double gamma_l = (a - 1) * sum_log - n * a - n * a * std::log(theta) - n * std::lgamma(a);
      fits.push_back(make("gamma", Dist::gamma(a, theta), {a, theta}, gamma_l, 2,
                          ks_distance(sorted, boost::math::gamma_distribution<>(a, theta)), count));
    });

    guarded([&] {
      // Weibull: the shape solves Σyᵏ ln y / Σyᵏ − 1/k = mean(ln y), increasing in k, on y = x/mean
      // so that yᵏ stays finite for large durations and shapes.
      const double log_m = std::log(mean);
      auto score = [&](double k) {
        double sk = 0, skl = 0;
        for (double x : sorted) {
          const double ly = std::log(x) - log_m, yk = std::exp(k * ly);
          sk += yk, skl += yk * ly;
        }
        return skl / sk - 1 / k - (mean_log - log_m);
      };
      double lo = 0.01, hi = 100;
      if (score(lo) < 0 && score(hi) > 0) {
        boost::math::tools::eps_tolerance<double> tol(40);
        std::uintmax_t iters = 200;
        const auto [k_lo, k_hi] = boost::math::tools::toms748_solve(score, lo, hi, tol, iters);
        const double k = (k_lo + k_hi) / 2;
        double sk = 0;
        for (double x : sorted) sk += std::exp(k * (std::log(x) - log_m));
        const double scale = std::exp(log_m + std::log(sk / n) / k);
        double tail = 0;  // Σ (x/scale)^k
        for (double x : sorted) tail += std::exp(k * (std::log(x) - std::log(scale)));
        const double weibull_l = n * std::log(k) - n * k * std::log(scale) + (k - 1) * sum_log - tail;
        fits.push_back(make("weibull", Dist::weibull(k, scale), {k, scale}, weibull_l, 2,
                            ks_distance(sorted, boost::math::weibull_distribution<>(k, scale)), count));
      }
    });
  }
  std::stable_sort(fits.begin(), fits.end(), [](const Fit& a, const Fit& b) { return a.aic < b.aic; });
  return fits;
}

Fit choose_fit(const std::vector<Fit>& ranked, const std::vector<double>& xs) {
  if (!ranked.empty() && ranked.front().ks_p >= 0.01) return ranked.front();
  // At most 1000 order statistics, evenly spaced: a scenario file stays readable, and the
  // distribution moves by at most 1/1000 in probability.
  std::vector<double> sorted = xs;
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> kept;
  const std::size_t m = std::min<std::size_t>(sorted.size(), 1000);
  for (std::size_t i = 0; i < m; ++i) kept.push_back(sorted[(2 * i + 1) * sorted.size() / (2 * m)]);
  Fit f;
  f.family = "empirical";
  f.params = kept;
  f.dist = Dist::empirical(kept);
  return f;
}

}  // namespace stepq
