// The simulator against queueing theory, at the default warm-up removal (auto), as users run it.
//
// Each case runs independent replications (in parallel processes) and checks the mean and p95
// wait both ways: a confidence interval over replications contains the theoretical value, and
// the point estimate is within 2% of it. The file makes kIntervalChecks interval checks on one
// seed, so each interval is at level 1 − 0.05/kIntervalChecks (Bonferroni): together they miss
// by chance at most 5% of the time, and a harmless change in how random numbers are drawn does
// not fail the file by luck.
//
// Sample sizes: the relative half-width of a mean-wait estimate shrinks as 1/sqrt(customers)
// and grows steeply with utilisation (asymptotic variance ~ 2(1+ρ)/(ρ(1−ρ)²) per unit time for
// M/M/1, Whitt 1989). Pilot runs here gave 95% half-widths of 2.5% (M/M/1, ρ = 0.9) and 4.4%
// (M/M/2, ρ = 0.95) at 4M customers, so the runs below are sized for a half-width near 1%,
// where a 2% error is more than three standard errors away: the 0.95 case uses 10 × 3M customers.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/confidence.hpp"
#include "sim/replications.hpp"
#include "tests/helpers.hpp"
#include "validation/theory.hpp"

using namespace stepq;
using ojson = nlohmann::ordered_json;

namespace {

constexpr int kIntervalChecks = 13;  // 6 M/M/c cases × (mean, p95) + M/D/1
constexpr double kLevel = 1 - 0.05 / kIntervalChecks;

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

void check_against(const std::vector<ojson>& runs, const std::string& pointer, double theory, double tolerance = 0.02) {
  const Interval i = confidence_interval(column(runs, pointer), kLevel);
  INFO(pointer << ": simulated " << i.mean << ", " << 100 * kLevel << "% interval [" << i.lo << ", " << i.hi
               << "], theory " << theory << "; warm-up dropped per replication: " << dropped(runs));
  CHECK(i.contains(theory));
  CHECK(i.mean == Approx(theory).epsilon(tolerance));
}

void check_mmc(int c, double rho, std::uint64_t sessions, int reps) {
  const double lambda = rho * c;  // mean service 1 s
  const auto runs = replicate(one_kind(c, lambda, R"({"dist": "exponential", "mean": 1})", sessions), reps);
  check_against(runs, "/kinds/work/wait_s/mean", theory::mmc_wait_mean(c, lambda, 1));
  check_against(runs, "/kinds/work/wait_s/p95", theory::mmc_wait_quantile(c, lambda, 1, 0.95));
  for (double u : column(runs, "/kinds/work/utilization")) CHECK(u == Approx(rho).epsilon(0.01));
}

}  // namespace

TEST_CASE("M/M/1 at rho 0.5 matches theory", "[validation]") { check_mmc(1, 0.5, 500000, 20); }
TEST_CASE("M/M/1 at rho 0.9 matches theory", "[validation][slow]") { check_mmc(1, 0.9, 2500000, 10); }
TEST_CASE("M/M/2 at rho 0.8 matches Erlang C", "[validation]") { check_mmc(2, 0.8, 500000, 10); }
TEST_CASE("M/M/8 at rho 0.8 matches Erlang C", "[validation]") { check_mmc(8, 0.8, 500000, 10); }
TEST_CASE("M/M/32 at rho 0.8 matches Erlang C", "[validation]") { check_mmc(32, 0.8, 500000, 10); }
// Heavy traffic costs ~70 CPU-s a case: one c at 0.95 (M/M/2 and M/M/32 there passed too, and
// the CPU went to the cluster's Erlang C check, test_capacity.cpp).
TEST_CASE("M/M/8 at rho 0.95 matches Erlang C", "[validation][slow]") { check_mmc(8, 0.95, 3000000, 10); }

TEST_CASE("M/D/1 matches Pollaczek-Khinchine", "[validation]") {
  // rho = 0.8, deterministic service 1 s: Wq = rho / (2 mu (1 - rho)) = 2.0, half the M/M/1 value.
  check_against(replicate(one_kind(1, 0.8, "1", 1000000), 10), "/kinds/work/wait_s/mean", 2.0);
}

TEST_CASE("M/D/4 matches the Cosmetatos approximation within its accuracy", "[validation]") {
  // No closed form exists for M/D/c; Cosmetatos (1976) corrects half the M/M/c wait and is
  // within about 1% of exact tables near rho = 0.8, so the tolerance here is 3%.
  const int c = 4;
  const double rho = 0.8, lambda = rho * c;
  const double mmc = theory::mmc_wait_mean(c, lambda, 1);
  const double cosmetatos = 0.5 * mmc * (1 + (1 - rho) * (c - 1) * (std::sqrt(4.0 + 5 * c) - 2) / (16 * rho * c));
  const auto runs = replicate(one_kind(c, lambda, "1", 1000000), 10);
  const double sim = ci95(column(runs, "/kinds/work/wait_s/mean")).mean;
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
  INFO("default: mean shift " << mean << " s (t = " << t << "), dropped " << dropped(by_default) << "; MSER-5 alone: "
                              << mser_mean << " s (t = " << mser_t << ")");
  CHECK(t > -t_crit);
  CHECK(mser_t < -t_crit);  // the comparison can tell a biased rule
}

TEST_CASE("95% intervals of 3 replications cover the true M/M/1 mean wait 88 to 99 times in 100", "[validation][slow]") {
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
