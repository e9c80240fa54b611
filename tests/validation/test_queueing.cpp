// The simulator against queueing theory, at the default warm-up removal (auto), as users run it.
//
// Each case runs independent replications (in parallel processes) and checks the mean and p95
// wait both ways: a confidence interval over replications contains the theoretical value, and
// the point estimate is within 2% of it.
//
// Control variates (Lavenberg & Welch 1981, "A perspective on the use of control variables to
// increase the efficiency of Monte Carlo simulations", Management Science 27(3); Law,
// "Simulation Modeling and Analysis", §11.4). Every run reports two sample means of its own
// inputs whose expectations are known exactly: the mean service time of its claims
// (kinds.work.service_s.mean, expectation 1 s) and the mean gap between its arrivals
// (sessions.interarrival_s_mean: n − 1 independent exponential gaps, expectation 1/λ). A run
// whose customers happened to bring more work, or to come closer together, than on average waits
// longer. The per-run estimates are regressed on their controls, and the estimate is the fitted
// value where the controls equal their expectations: ȳ − β̂ᵀ(c̄ − μ). Why this is valid: the
// replications are independent and identically distributed, and the controls' expectations are
// exact, so the estimate targets the same mean as ȳ; with q controls its interval is Student t on
// R − 1 − q degrees of freedom, exact when (y, controls) are jointly normal across replications,
// as means and quantiles of tens of thousands of customers are (central limit theorem;
// core/confidence.hpp).
// With both controls the variance of a run's mean wait falls to 0.5–0.8 of its plain value and
// that of its p95 to 0.65–0.85 (pilot runs of 200 replications per case, and these cases on three
// seeds).
//
// What the controls could hide, the file checks: a generator that drew service times or gaps
// with the wrong mean would be regressed back towards the right one, so each control's own
// interval must contain its expectation; and each run's utilisation is compared with that run's
// own offered load, mean service / (threads × mean gap), which the controls leave exact.
//
// Bonferroni: the file makes kWaitChecks interval checks of a wait and kControlChecks of a
// control on one seed. The first share 0.045, the second 0.005, so together they miss by chance
// at most 5% of the time, and a harmless change in how random numbers are drawn does not fail
// the file by luck. A control needs little of it: even at its level the smallest error in an
// input mean it can tell would move the wait by 0.4–3.3%, less than the wait's own half-width.
//
// Sample sizes: the relative half-width of a mean-wait estimate shrinks as 1/sqrt(customers)
// and grows steeply with utilisation (asymptotic variance ~ 2(1+ρ)/(ρ(1−ρ)²) per unit time for
// M/M/1, Whitt 1989). Each case had 10 plain replications (20 at M/M/1 ρ = 0.5); it now has 40,
// sized so that every interval's expected half-width is no wider than before: with
// N customers in all, that half-width is t·√(V·r·(R − 2)/(R − q − 2)/N) for a variance V per
// customer, the pilots' variance ratio r (rounded up) and Lavenberg & Welch's loss factor, against
// t(9)·√(V/N₀) before. 40 plain replications alone would need about 0.63 of the customers (the
// Bonferroni t quantile on more degrees of freedom: t(37) = 3.12 against t(9) = 3.86); with the
// controls the cases need 0.44–0.74 of them, 0.6 in all. M/D/4's point estimate (no interval, so
// no t) keeps its standard error. The other point estimates' standard errors grow (by up to 1.2×
// for the p95s), since the same half-width now comes with a smaller t. Two cases are therefore
// sized for their 2% point checks rather than their intervals. M/M/32's waits are rare (Erlang C
// 0.16), so its mean and p95 carry standard errors of about 1.5% at 40 × 75k customers (plain
// replications on seeds 11-13: ±3.8% and ±3.3% at 95%), and the 2% checks failed by chance about
// one seed in five: 430k customers a replication put 2% at 3 standard errors (0.3% each). M/M/8
// at ρ = 0.95's p95 had a standard error of about 1.3% with the controls at 430k (plain ±2.9%
// at 95%; seed 11 sat +2.0% off before the controls): 1.2M puts 2% at 2.6 standard errors (1%).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/confidence.hpp"
#include "sim/replications.hpp"
#include "tests/helpers.hpp"
#include "validation/theory.hpp"

using namespace stepq;
using ojson = nlohmann::ordered_json;

namespace {

constexpr int kWaitChecks = 13;     // 6 M/M/c cases × (mean, p95) + M/D/1
constexpr int kControlChecks = 14;  // 6 M/M/c cases × (service, gap) + M/D/1 and M/D/4 × gap
constexpr double kWaitLevel = 1 - 0.045 / kWaitChecks;
constexpr double kControlLevel = 1 - 0.005 / kControlChecks;
constexpr int kReplications = 40;

std::string one_kind(int threads, double rate, const std::string& service, std::uint64_t sessions,
                     std::uint64_t seed = 11) {
  return R"({"name": "q", "seed": )" + std::to_string(seed) + R"(, "sessions": )" + std::to_string(sessions) +
         R"(, "arrivals": {"process": "poisson", "rate_per_s": )" + std::to_string(rate) +
         R"(}, "kinds": {"work": {"threads": )" + std::to_string(threads) + R"(, "service_s": )" + service +
         R"(}}, "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})";
}

std::vector<ojson> replicate(const std::string& json, int reps, sim::Warmup warmup = {}) {
  sim::SimOptions opt;
  opt.warmup = warmup;
  sim::ReplicationPlan plan;
  plan.replications = reps;
  return sim::run_each(test::scenario(json), opt, plan).runs;
}

std::vector<double> column(const std::vector<ojson>& runs, const std::string& pointer) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r[ojson::json_pointer(pointer)].get<double>());
  return v;
}

std::string dropped(const std::vector<ojson>& runs) {
  std::string s;
  for (const auto& r : runs) s += std::to_string(r["warmup"]["sessions_dropped"].get<std::uint64_t>()) + " ";
  return s;
}

// How many replications dropped a warm-up, and the most any dropped.
std::string dropped_summary(const std::vector<ojson>& runs) {
  std::uint64_t in = 0, most = 0;
  for (const auto& r : runs) {
    const auto d = r["warmup"]["sessions_dropped"].get<std::uint64_t>();
    in += d > 0;
    most = std::max(most, d);
  }
  return std::to_string(in) + " of " + std::to_string(runs.size()) + " (at most " + std::to_string(most) + ")";
}

// A statistic of each run computed by the simulator, whose expectation is known exactly.
struct Control {
  std::string pointer;
  double expectation;
};

// Service mean (exponential service of mean 1 s) and mean gap between Poisson arrivals at `rate`.
std::vector<Control> controls(double rate, bool exponential_service = true) {
  std::vector<Control> c;
  if (exponential_service) c.push_back({"/kinds/work/service_s/mean", 1.0});
  c.push_back({"/sessions/interarrival_s_mean", 1 / rate});
  return c;
}

// The control's plain interval contains its expectation: the inputs were drawn as specified.
void check_control(const std::vector<ojson>& runs, const Control& c) {
  const Interval i = confidence_interval(column(runs, c.pointer), kControlLevel);
  INFO(c.pointer << " (a control): simulated " << i.mean << ", " << 100 * kControlLevel << "% interval [" << i.lo
                 << ", " << i.hi << "], expectation " << c.expectation);
  CHECK(i.contains(c.expectation));
}

Interval controlled(const std::vector<ojson>& runs, const std::string& pointer, const std::vector<Control>& cs,
                    double level) {
  std::vector<std::vector<double>> values;
  std::vector<double> expectations;
  for (const auto& c : cs) values.push_back(column(runs, c.pointer)), expectations.push_back(c.expectation);
  return control_variate_interval(column(runs, pointer), values, expectations, level);
}

void check_against(const std::vector<ojson>& runs, const std::string& pointer, double theory,
                   const std::vector<Control>& cs, double tolerance = 0.02) {
  const Interval i = controlled(runs, pointer, cs, kWaitLevel);
  const Interval plain = confidence_interval(column(runs, pointer), kWaitLevel);
  INFO(pointer << ": simulated " << i.mean << ", " << 100 * kWaitLevel << "% interval [" << i.lo << ", " << i.hi
               << "] (±" << 100 * i.relative_half_width() << "%; without controls " << plain.mean << " ±"
               << 100 * plain.relative_half_width() << "%), theory " << theory
               << "; replications that dropped a warm-up: " << dropped_summary(runs));
  CHECK(i.contains(theory));
  CHECK(i.mean == Approx(theory).epsilon(tolerance));
}

// Each run's threads were busy for the work that arrived: utilisation = its own offered load,
// mean service / (threads × mean gap), to 1% (the end of the run is the only difference).
void check_utilization(const std::vector<ojson>& runs, int threads) {
  for (const auto& r : runs) {
    const double load = r["kinds"]["work"]["service_s"]["mean"].get<double>() /
                        (threads * r["sessions"]["interarrival_s_mean"].get<double>());
    CHECK(r["kinds"]["work"]["utilization"].get<double>() == Approx(load).epsilon(0.01));
  }
}

void check_mmc(int c, double rho, std::uint64_t sessions) {
  const double lambda = rho * c;  // mean service 1 s
  const auto runs = replicate(one_kind(c, lambda, R"({"dist": "exponential", "mean": 1})", sessions), kReplications);
  const auto cs = controls(lambda);
  for (const auto& k : cs) check_control(runs, k);
  check_against(runs, "/kinds/work/wait_s/mean", theory::mmc_wait_mean(c, lambda, 1), cs);
  check_against(runs, "/kinds/work/wait_s/p95", theory::mmc_wait_quantile(c, lambda, 1, 0.95), cs);
  check_utilization(runs, c);
}

// Deterministic service of 1 s: its mean is no control (it does not vary), only the gaps are.
std::vector<ojson> replicate_mdc(int c, double lambda, std::uint64_t sessions) {
  const auto runs = replicate(one_kind(c, lambda, "1", sessions), kReplications);
  for (double s : column(runs, "/kinds/work/service_s/mean")) CHECK(s == Approx(1).epsilon(1e-12));
  check_control(runs, controls(lambda, false)[0]);
  check_utilization(runs, c);
  return runs;
}

}  // namespace

// 40 replications each (kReplications); the plain replications they replaced are in the comments.
TEST_CASE("M/M/1 at rho 0.5 matches theory", "[validation]") { check_mmc(1, 0.5, 160000); }        // 20 × 500k
TEST_CASE("M/M/1 at rho 0.9 matches theory", "[validation][slow]") { check_mmc(1, 0.9, 380000); }  // 10 × 2.5M
TEST_CASE("M/M/2 at rho 0.8 matches Erlang C", "[validation]") { check_mmc(2, 0.8, 75000); }       // 10 × 500k
TEST_CASE("M/M/8 at rho 0.8 matches Erlang C", "[validation]") { check_mmc(8, 0.8, 75000); }       // 10 × 500k
TEST_CASE("M/M/32 at rho 0.8 matches Erlang C", "[validation]") { check_mmc(32, 0.8, 430000); }    // 10 × 500k
// Heavy traffic costs ~35 CPU-s a case: one c at 0.95 (M/M/2 and M/M/32 there passed too, and
// the CPU went to the cluster's Erlang C check, test_capacity.cpp).
TEST_CASE("M/M/8 at rho 0.95 matches Erlang C", "[validation][slow]") { check_mmc(8, 0.95, 1200000); }  // 10 × 3M

TEST_CASE("M/D/1 matches Pollaczek-Khinchine", "[validation]") {
  // rho = 0.8, deterministic service 1 s: Wq = rho / (2 mu (1 - rho)) = 2.0, half the M/M/1 value.
  const auto runs = replicate_mdc(1, 0.8, 110000);  // 10 × 1M
  check_against(runs, "/kinds/work/wait_s/mean", 2.0, controls(0.8, false));
}

TEST_CASE("M/D/4 matches the Cosmetatos approximation within its accuracy", "[validation]") {
  // No closed form exists for M/D/c; Cosmetatos (1976) corrects half the M/M/c wait and is
  // within about 1% of exact tables near rho = 0.8, so the tolerance here is 3%.
  const int c = 4;
  const double rho = 0.8, lambda = rho * c;
  const double mmc = theory::mmc_wait_mean(c, lambda, 1);
  const double cosmetatos = 0.5 * mmc * (1 + (1 - rho) * (c - 1) * (std::sqrt(4.0 + 5 * c) - 2) / (16 * rho * c));
  const auto runs = replicate_mdc(c, lambda, 185000);  // 10 × 1M
  const double sim = controlled(runs, "/kinds/work/wait_s/mean", controls(lambda, false), 0.95).mean;
  INFO("simulated " << sim << ", Cosmetatos " << cosmetatos << ", half M/M/4 " << mmc / 2);
  CHECK(sim == Approx(cosmetatos).epsilon(0.03));
}

TEST_CASE("warm-up removal does not pull a stationary run's mean down: default vs none on the same paths",
          "[validation]") {
  // M/M/4 at rho 0.9 starting empty, 40 replications of 50,000 sessions: the true transient is
  // a few hundred sessions and an empty start biases the mean *low*, so removing it may raise the
  // mean a little but must not lower it. The same replications run with each setting (same
  // seeds, same sample paths); the paired differences of the mean start-up are tested one-sided
  // at 5%. MSER-5 alone, run the same way, is the defect this guards against.
  const std::string json = one_kind(4, 3.6, R"({"dist": "exponential", "mean": 1})", 50000, 7);
  const auto none = column(replicate(json, 40, {sim::Warmup::Method::none, 0}), "/startup_s/mean");
  const double t_crit = student_t_quantile(39, 0.95);
  auto shift = [&](const std::vector<ojson>& runs, double& mean, double& t) {  // paired t statistic
    const auto v = column(runs, "/startup_s/mean");
    double sum = 0, sumsq = 0;
    for (std::size_t i = 0; i < v.size(); ++i) sum += v[i] - none[i], sumsq += (v[i] - none[i]) * (v[i] - none[i]);
    const double n = static_cast<double>(v.size()), var = (sumsq - sum * sum / n) / (n - 1);
    mean = sum / n;
    t = var > 0 ? mean / std::sqrt(var / n) : 0;
  };
  double mean = 0, t = 0, mser_mean = 0, mser_t = 0;
  const auto by_default = replicate(json, 40);
  shift(by_default, mean, t);
  shift(replicate(json, 40, {sim::Warmup::Method::mser5, 0}), mser_mean, mser_t);
  INFO("default: mean shift " << mean << " s (t = " << t << "), dropped " << dropped(by_default)
                              << "; MSER-5 alone: " << mser_mean << " s (t = " << mser_t << ")");
  CHECK(t > -t_crit);
  CHECK(mser_t < -t_crit);  // the comparison can tell a biased rule
}

TEST_CASE("95% intervals of 3 replications cover the true M/M/1 mean wait 88 to 99 times in 100",
          "[validation][slow]") {
  // 100 independent sets of 3 replications of an M/M/1 queue at rho = 0.5 (true Wq = 1 s), at
  // the default warm-up. With 2 degrees of freedom the interval needs t = 4.303: the normal's
  // 1.96 would cover about 81 times in 100 and fail this 19 times in 20.
  int covered = 0;
  for (int set = 0; set < 100; ++set) {
    const auto runs = replicate(one_kind(1, 0.5, R"({"dist": "exponential", "mean": 1})", 20000, 1000 + set), 3);
    if (ci95(column(runs, "/kinds/work/wait_s/mean")).contains(1.0)) ++covered;
  }
  INFO("covered " << covered << " of 100");
  CHECK(covered >= 88);
  CHECK(covered <= 99);
}

TEST_CASE("the default warm-up removes the transient of a burst at the start", "[validation]") {
  // M/M/4 at rho 0.8 that starts with 3000 sessions at once: their waits are far above the
  // steady state (Erlang C Wq = 0.7455 s, start-up = 1.7455 s) for ~15,000 sessions.
  std::string json = one_kind(4, 3.2, R"({"dist": "exponential", "mean": 1})", 40000);
  json.replace(json.find("\"process\": \"poisson\""), 20, "\"process\": \"poisson\", \"burst\": 3000");
  const auto cut = replicate(json, 10);
  const auto raw = replicate(json, 10, {sim::Warmup::Method::none, 0});
  const double truth = 1 + theory::mmc_wait_mean(4, 3.2, 1);
  const Interval c = ci95(column(cut, "/startup_s/mean")), u = ci95(column(raw, "/startup_s/mean"));
  INFO("truncated CI [" << c.lo << ", " << c.hi << "], untruncated CI [" << u.lo << ", " << u.hi << "], dropped "
                        << dropped(cut));
  for (const auto& r : cut) {
    CHECK(r["warmup"]["reason"] == "transient");
    CHECK(r["warmup"]["sessions_dropped"].get<int>() >= 3000);
    CHECK(r["warmup"]["sessions_dropped"].get<int>() <= 20000);
  }
  CHECK(c.contains(truth));
  CHECK_FALSE(u.contains(truth));
}
