// What warm-up removal does to the mean start-up, measured through the simulator: for each case
// the same replications (same seeds, same sample paths) run with --warmup none, mser5 and auto,
// and the table gives, per method, the share of replications it cut, the error of the mean
// start-up against Erlang C's, and the paired shift against none (its t statistic). Stationary M/M/4
// cases start empty, so a removal that lowers their mean is biased; burst cases start with a
// backlog that a removal should take out. The figures in docs/DESIGN.md §9 come from this.
//
//   warmup_bias [SCALE]     SCALE (default 1) multiplies the replication counts
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/confidence.hpp"
#include "core/erlang.hpp"
#include "core/scenario_load.hpp"
#include "reports/format.hpp"
#include "sim/replications.hpp"

namespace {

using stepq::sim::Warmup;

struct Case {
  const char* label;
  double rate;  // M/M/4, mean service 1 s
  int burst;    // sessions at t = 0
  int sessions, replications;
};

std::vector<double> means(const stepq::Scenario& sc, Warmup w, int reps, std::vector<int>* cut = nullptr) {
  stepq::sim::SimOptions o;
  o.warmup = w;
  stepq::sim::ReplicationPlan p;
  p.replications = reps;
  std::vector<double> m;
  for (const auto& r : stepq::sim::run_each(sc, o, p).runs) {
    m.push_back(r["startup_s"]["mean"].get<double>());
    if (cut) cut->push_back(r["warmup"]["sessions_dropped"].get<int>() > 0);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1;
  const std::vector<Case> cases = {
      {"rho 0.8", 3.2, 0, 2000, 1000},
      {"rho 0.8", 3.2, 0, 20000, 200},
      {"rho 0.8", 3.2, 0, 200000, 40},
      {"rho 0.9", 3.6, 0, 2000, 1000},
      {"rho 0.9", 3.6, 0, 5000, 400},
      {"rho 0.9", 3.6, 0, 20000, 200},
      {"rho 0.9", 3.6, 0, 200000, 40},
      {"rho 0.95", 3.8, 0, 2000, 1000},
      {"rho 0.95", 3.8, 0, 5000, 400},
      {"rho 0.95", 3.8, 0, 20000, 200},
      {"rho 0.95", 3.8, 0, 200000, 40},
      {"rho 0.8 burst 30", 3.2, 30, 40000, 40},
      {"rho 0.8 burst 100", 3.2, 100, 40000, 40},
      {"rho 0.8 burst 300", 3.2, 300, 40000, 40},
      {"rho 0.8 burst 3000", 3.2, 3000, 40000, 40},
  };
  std::printf("error = mean start-up vs Erlang C's (%% of it, +- 95%% half-width); shift = paired vs none (t)\n");
  std::printf("%-18s %8s %5s | %-17s | %-31s | %-31s\n", "case (M/M/4)", "sessions", "reps", "none: error",
              "mser5: cut, error, shift (t)", "auto: cut, error, shift (t)");
  for (const Case& c : cases) {
    const int reps = std::max(3, static_cast<int>(c.replications * scale));
    const std::string json = R"({"name": "w", "seed": 2024, "sessions": )" + std::to_string(c.sessions) +
                             R"(, "arrivals": {"process": "poisson", "rate_per_s": )" + std::to_string(c.rate) +
                             R"(, "burst": )" + std::to_string(c.burst) +
                             R"(}, "kinds": {"work": {"threads": 4, "service_s": {"dist": "exponential", "mean": 1}}},
                                "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})";
    const stepq::Scenario sc = stepq::parse_scenario(json, "warmup_bias.json", {});
    const double truth = 1 + stepq::mmc_mean_wait(4, c.rate, 1.0);
    auto error = [&](const std::vector<double>& m) {
      const stepq::Interval i = stepq::ci95(m);
      return stepq::format::fmt("%+7.2f%%", 100 * (i.mean / truth - 1)) +
             stepq::format::fmt(" +-%5.2f", 100 * i.half_width() / truth);
    };
    const auto none = means(sc, {Warmup::Method::none, 0}, reps);
    std::printf("%-18s %8d %5d | %s", c.label, c.sessions, reps, error(none).c_str());
    for (Warmup w : {Warmup{Warmup::Method::mser5, 0}, Warmup{Warmup::Method::automatic, 0}}) {
      std::vector<int> cut;
      const auto m = means(sc, w, reps, &cut);
      double s = 0, ss = 0;
      int cuts = 0;
      for (int i = 0; i < reps; ++i) {
        const double d = m[i] - none[i];
        s += d, ss += d * d, cuts += cut[i];
      }
      const double n = reps, var = (ss - s * s / n) / (n - 1);
      const double t = var > 0 ? s / n / std::sqrt(var / n) : 0;
      std::printf(" | %4.0f%% %s (%6.1f)", 100.0 * cuts / n, error(m).c_str(), t);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}
