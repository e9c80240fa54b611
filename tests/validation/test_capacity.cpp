// Clusters against queueing theory: a cluster of identical session slots is an M/M/c queue for
// the sessions' Pending time (Erlang C), and a per-user session limit is an Erlang loss system
// for each user's launches (Erlang B). Checked at the default warm-up.
//
// What keeps them exact: a session holds its slot from admission until its delete step
// completes. With no start latency (ready_after_s 0), a delete that takes no time on a pool that
// never queues, and run time counted from Running, the hold time is the exponential run time —
// except that release starts only once the broker's poll has seen the session Running, which
// lengthens the hold of a session that ends before the next poll by E[(L − R)⁺] ≈ I²/(6m) for a
// poll interval I and mean run m. With I = m/20 that is 0.04% of m: the Pending wait moves by
// ~0.2% at utilisation 0.8, a tenth of the 2% tolerance.
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

// Sessions at `rate` on one node of `slots` one-core slots; exponential run time of mean `run`.
std::string slots(int slots, double rate, double run, std::uint64_t sessions, const std::string& users = "",
                  const std::string& limit = "") {
  return R"({"name": "slots", "seed": 17, "sessions": )" + std::to_string(sessions) +
         R"(, "arrivals": {"process": "poisson", "rate_per_s": )" + std::to_string(rate) + users + R"(},
    "platform": {"clusters": {"k": {"nodes": [{"count": 1, "cores": )" +
         std::to_string(slots) + R"(, "memory_GB": 1e6}])" + limit + R"(}}},
    "kinds": {"launch": {"op": "launch", "threads": 64, "service_s": 0},
              "poll": {"op": "poll", "threads": 64, "poll": {"interval_s": )" +
         std::to_string(run / 20) +
         R"(, "ready_after_s": 0}},
              "delete": {"op": "delete", "threads": 64, "service_s": 0}},
    "templates": [{"name": "t",
      "session": {"cluster": "k", "cores": 1, "memory_GB": 1, "run_s": {"dist": "exponential", "mean": )" +
         std::to_string(run) + R"(}},
      "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
      "release": [{"id": "d", "kind": "delete"}]}]})";
}

std::vector<ojson> replicate(const std::string& json, int reps) {
  sim::ReplicationPlan plan;
  plan.replications = reps;
  return sim::run_each(test::scenario(json), sim::SimOptions{}, plan).runs;
}

std::vector<double> column(const std::vector<ojson>& runs, const std::string& pointer) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r[ojson::json_pointer(pointer)].get<double>());
  return v;
}

void check(const std::vector<double>& values, double theory, const char* what) {
  const Interval i = ci95(values);
  INFO(what << ": simulated " << i.mean << ", 95% interval [" << i.lo << ", " << i.hi << "], theory " << theory);
  CHECK(i.contains(theory));
  CHECK(i.mean == Approx(theory).epsilon(0.02));
}

}  // namespace

TEST_CASE("a cluster of 8 identical slots at utilisation 0.8: the Pending wait is Erlang C's queue wait",
          "[validation]") {
  const int c = 8;
  const double run = 10, rate = 0.8 * c / run;  // λ = 0.64/s, μ = 0.1/s
  // 10 × 300,000 sessions: a 95% half-width of about 1.6% (~50 CPU-s).
  const auto runs = replicate(slots(c, rate, run, 300000), 10);
  check(column(runs, "/clusters/k/pending_s/mean"), theory::mmc_wait_mean(c, rate, 1 / run), "mean Pending");
  check(column(runs, "/clusters/k/pending_s/p95"), theory::mmc_wait_quantile(c, rate, 1 / run, 0.95), "p95 Pending");
  for (double u : column(runs, "/clusters/k/utilization/cores")) CHECK(u == Approx(0.8).epsilon(0.01));
  // The admission queue by Little's law: L = λW.
  const Interval q = ci95(column(runs, "/clusters/k/queue/mean"));
  CHECK(q.mean == Approx(rate * theory::mmc_wait_mean(c, rate, 1 / run)).epsilon(0.02));
}

TEST_CASE("a per-user session limit: each user's launches are refused as in an Erlang loss system", "[validation]") {
  // 8 users with Zipf(1) popularity, at most 2 sessions each, on a cluster that never fills:
  // user u is an M/M/2/2 system with load λ·p_u·m, so the share of sessions refused is
  // Σ p_u · B(2, λ·p_u·m) (Erlang B).
  const int users = 8, limit = 2;
  const double run = 10, rate = 0.4;
  double h = 0;
  for (int u = 1; u <= users; ++u) h += 1.0 / u;
  double refused = 0;
  for (int u = 1; u <= users; ++u) {
    const double p = 1.0 / u / h;
    refused += p * theory::erlang_b(limit, rate * p * run);
  }
  const auto runs = replicate(
      slots(1000, rate, run, 100000, R"(, "users": {"count": 8, "popularity": {"zipf": 1}})", R"(, "user_limit": 2)"),
      8);
  std::vector<double> share;
  for (const auto& r : runs)
    share.push_back(r["clusters"]["k"]["refused"].get<double>() / r["sessions"]["arrived"].get<double>());
  check(share, refused, "share refused");
  for (const auto& r : runs) CHECK(r["clusters"]["k"]["pending_s"]["max"].get<double>() == 0);
}
