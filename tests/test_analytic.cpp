// `stepq analyze`: queueing formulas against independently computed values, the traffic
// equations against hand-counted visits, and the verdicts.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cli/analyze_cmd.hpp"
#include "cli/scenario_file.hpp"
#include "core/analytic.hpp"
#include "core/erlang.hpp"
#include "helpers.hpp"
#include "reports/comparison.hpp"
#include "sim/replications.hpp"

using namespace stepq;

namespace {

// Erlang C by the textbook sum, C = [aᶜ/c!·1/(1−ρ)] / [Σ_{k<c} aᵏ/k! + aᶜ/c!·1/(1−ρ)], each term in
// log space and long double (log-sum-exp), so it neither overflows at c = 1000 nor shares any code
// with the Erlang B recursion it checks.
long double erlang_c_reference(int c, long double a) {
  const long double rho = a / c;
  std::vector<long double> logs;
  for (int k = 0; k < c; ++k) logs.push_back(k * std::log(a) - std::lgamma(static_cast<long double>(k) + 1));
  const long double last = c * std::log(a) - std::lgamma(static_cast<long double>(c) + 1) - std::log(1 - rho);
  long double top = last;
  for (long double l : logs) top = std::max(top, l);
  long double sum = 0;
  for (long double l : logs) sum += std::exp(l - top);
  const long double w = std::exp(last - top);
  return w / (sum + w);
}

double rel(double x, double ref) { return std::abs(x - ref) / std::abs(ref); }

Scenario load(const std::string& name) {
  return load_scenario_file(std::string(STEPQ_SOURCE_DIR) + "/scenarios/" + name);
}

}  // namespace

TEST_CASE("Erlang C matches the textbook sum at c = 1, 4, 100, 1000", "[validation][analytic]") {
  struct Case {
    int c;
    double a;
  };
  for (const Case k : {Case{1, 0.3}, Case{1, 0.95}, Case{4, 3.2}, Case{4, 0.5}, Case{100, 80}, Case{100, 99},
                       Case{1000, 950}, Case{1000, 700}, Case{1000, 999.5}}) {
    INFO("c = " << k.c << ", a = " << k.a);
    const double ref = static_cast<double>(erlang_c_reference(k.c, k.a));
    CHECK(rel(erlang_c(k.c, k.a), ref) < 1e-9);
  }
  // M/M/1: the probability of waiting is the utilisation.
  CHECK(rel(erlang_c(1, 0.3), 0.3) < 1e-15);
  // Unstable: every arrival waits.
  CHECK(erlang_c(4, 4.0) == 1.0);
  CHECK(std::isinf(mmc_mean_wait(4, 4.0, 1.0)));
}

TEST_CASE("M/M/4 at 3.2/s (mm4): C = 8192/13735, Wq = 2048/2747 = 0.74554 s", "[validation][analytic]") {
  // Exact rationals, by hand: a = 16/5, Σ_{k<4} aᵏ/k! = (375 + 1200 + 1920 + 2048)/375 = 5543/375,
  // a⁴/4!·1/(1 − 4/5) = 8192/1875·5 = 8192/375, so C = 8192/(5543 + 8192) = 8192/13735 and
  // Wq = C/(cμ − λ) = C/0.8 = 2048/2747 = 0.745540…
  const double C = 8192.0 / 13735.0, Wq = 2048.0 / 2747.0;
  CHECK(rel(erlang_c(4, 3.2), C) < 1e-12);
  CHECK(rel(mmc_mean_wait(4, 3.2, 1.0), Wq) < 1e-12);
  CHECK(Wq == Approx(0.7455).margin(1e-4));
}

TEST_CASE("M/M/c wait quantile inverts P(W > t) = C e^{-(c mu - lambda) t}", "[validation][analytic]") {
  const int c = 4;
  const double lambda = 3.2, es = 1.0, C = erlang_c(c, lambda * es), rate = c / es - lambda;
  for (double p : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    INFO("p = " << p);
    const double t = mmc_wait_quantile(c, lambda, es, p);
    if (C <= 1 - p) {
      CHECK(t == 0);
    } else {
      CHECK(t == Approx(std::log(C / (1 - p)) / rate).epsilon(1e-12));
      CHECK(C * std::exp(-rate * t) == Approx(1 - p).epsilon(1e-12));
    }
  }
  // C ≈ 0.596 < 1 − 0.3: the 30% quantile of the wait is 0 (most steps do not wait).
  CHECK(mmc_wait_quantile(c, lambda, es, 0.3) == 0);
  // The same through WaitDistribution (no poll delay).
  WaitDistribution d;
  d.C = C;
  d.theta = rate;
  CHECK(d.quantile(0.95) == Approx(mmc_wait_quantile(c, lambda, es, 0.95)).epsilon(1e-12));
  CHECK(d.tail(d.quantile(0.99)) == Approx(0.01).epsilon(1e-9));
}

TEST_CASE("Allen-Cunneen: scv 0 halves the wait, M/D/1 is exactly half M/M/1 (Pollaczek-Khinchine)",
          "[validation][analytic]") {
  CHECK(allen_cunneen_factor(1, 0) == 0.5);
  CHECK(allen_cunneen_factor(1, 1) == 1.0);
  const double lambda = 0.7, es = 1.0, rho = lambda * es;
  const double mm1 = rho / (1 / es - lambda);           // M/M/1
  const double md1 = rho / (2 * (1 / es) * (1 - rho));  // P–K with Cs² = 0
  CHECK(ggc_mean_wait(1, lambda, es, 1, 0) == Approx(md1).epsilon(1e-12));
  CHECK(md1 == Approx(mm1 / 2).epsilon(1e-12));

  // Through analyze: constant service 1 s, Poisson 0.7/s, one thread.
  const Scenario sc =
      test::scenario(R"({"name": "md1", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.7},
    "kinds": {"work": {"threads": 1, "service_s": {"dist": "constant", "value": 1}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})");
  const AnalyticResult r = analyze(sc);
  REQUIRE(r.kinds[0].wait);
  CHECK(r.kinds[0].wait->mean == Approx(md1).epsilon(1e-12));
  CHECK(r.kinds[0].service_scv == 0);
  CHECK_FALSE(r.pools[0].exact);
  CHECK(r.pools[0].model == "M/D/c Allen-Cunneen");

  // M/G/1 with uniform(0, 2) service: P–K, λE[S²]/(2(1−ρ)), E[S²] = 4/3.
  const Scenario mg1 =
      test::scenario(R"({"name": "mg1", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.7},
    "kinds": {"work": {"threads": 1, "service_s": {"dist": "uniform", "min": 0, "max": 2}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})");
  CHECK(analyze(mg1).kinds[0].wait->mean == Approx(0.7 * (4.0 / 3) / (2 * 0.3)).epsilon(1e-12));
}

TEST_CASE("M^X/M/c: batch size 1 is M/M/c, M^X/M/1 matches its closed form, Little's law holds",
          "[validation][analytic]") {
  const BatchWait one = mxmc_wait(4, 3.2, {1.0}, 1.0);
  CHECK(one.mean_wait == Approx(2048.0 / 2747.0).epsilon(1e-10));
  CHECK(one.head_wait_probability == Approx(8192.0 / 13735.0).epsilon(1e-10));

  // M^X/M/1, X = 3 always, ρ = 0.7: Wq = ρE[S]/(1−ρ) + E[S](E[X²]/E[X] − 1)/(2(1−ρ)) = 7/3 + 10/3.
  const BatchWait three = mxmc_wait(1, 0.7 / 3, {0, 0, 1.0}, 1.0);
  CHECK(three.mean_wait == Approx(7.0 / 3 + 10.0 / 3).epsilon(1e-9));
  CHECK(three.position_excess[2] == Approx(2.0).epsilon(1e-12));  // one server: two services ahead

  // Six threads, batches of 1–3: the per-position waits average to Lq/λ.
  const std::vector<double> pmf{0.5, 0.3, 0.2};
  const double batch_rate = 2.0, ex = 0.5 + 0.6 + 0.6;
  const BatchWait b = mxmc_wait(6, batch_rate, pmf, 1.2);
  CHECK(b.mean_wait == Approx(b.queue_length / (batch_rate * ex)).epsilon(1e-9));
  CHECK(b.mean_wait > mmc_mean_wait(6, batch_rate * ex, 1.2));  // batches wait longer
  CHECK_FALSE(b.truncated);
}

TEST_CASE("traffic equations: three kinds with a retry loop give lambda x visits", "[validation][analytic]") {
  // Template "long" (weight 3): a -> b -> {c1, c2}; b fails 30% of attempts, 60 attempts allowed.
  // Template "short" (weight 1): a -> c. Sessions arrive at 2/s.
  const Scenario sc = test::scenario(R"({"name": "traffic", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 2},
    "kinds": {
      "a": {"threads": 2, "service_s": {"dist": "exponential", "mean": 0.1}},
      "b": {"threads": 4, "service_s": {"dist": "exponential", "mean": 0.2},
            "retry": {"max_attempts": 60, "failure_probability": 0.3, "backoff_s": 1}},
      "c": {"threads": 3, "service_s": {"dist": "exponential", "mean": 0.3}}},
    "templates": [
      {"name": "long", "weight": 3, "steps": [{"id": "a", "kind": "a"}, {"id": "b", "kind": "b", "after": ["a"]},
        {"id": "c1", "kind": "c", "after": ["b"]}, {"id": "c2", "kind": "c", "after": ["b"]}]},
      {"name": "short", "weight": 1, "steps": [{"id": "a", "kind": "a"}, {"id": "c", "kind": "c", "after": ["a"]}]}]})");
  const AnalyticResult r = analyze(sc);
  // By hand: expected attempts (1 − 0.3⁶⁰)/(1 − 0.3); per session a: 1, b: 3/4 × attempts, c: 3/4·2 + 1/4.
  const double attempts = (1 - std::pow(0.3, 60)) / 0.7;
  const double visits[3] = {1.0, 0.75 * attempts, 1.75};
  for (int k = 0; k < 3; ++k) {
    INFO("kind " << sc.kinds[k].name);
    CHECK(r.kinds[k].visits_per_session == Approx(visits[k]).epsilon(1e-12));
    CHECK(r.kinds[k].arrival_rate_per_s == Approx(2.0 * visits[k]).epsilon(1e-12));
  }
  // The routing matrix really is what was solved: (I − Pᵀ)λ = γ.
  std::vector<double> lam;
  for (const auto& k : r.kinds) lam.push_back(k.arrival_rate_per_s);
  for (int j = 0; j < 3; ++j) {
    double in = r.external_rate_per_s[j];
    for (int i = 0; i < 3; ++i) in += lam[i] * r.routing[i * 3 + j];
    CHECK(in == Approx(lam[j]).epsilon(1e-12));
  }
  CHECK(r.routing[1 * 3 + 1] == Approx(1 - 1 / attempts).epsilon(1e-12));  // b's retry self-loop
  CHECK(solve_traffic(r.routing, r.external_rate_per_s)[2] == Approx(3.5).epsilon(1e-12));
  // Utilisation λ·S/c per kind.
  CHECK(r.kinds[1].utilization == Approx(2 * 0.75 * attempts * 0.2 / 4).epsilon(1e-12));
}

TEST_CASE("analyze mm4: the JSON keys simulate uses, the exact M/M/c values", "[validation][analytic]") {
  const auto j = analyze_json(load("mm4.json"));
  CHECK(j["method"] == "analytic");
  const auto& k = j["kinds"]["work"];
  CHECK(k["wait_s"]["mean"].get<double>() == Approx(0.7455).margin(1e-4));
  CHECK(k["wait_s"]["mean"].get<double>() == Approx(2048.0 / 2747.0).epsilon(1e-12));
  CHECK(k["utilization"].get<double>() == Approx(0.8).epsilon(1e-12));
  CHECK(k["exact"].get<bool>());
  CHECK(k["model"] == "M/M/c");
  CHECK(k["wait_s"]["p50"].get<double>() == Approx(std::log(8192.0 / 13735.0 / 0.5) / 0.8).epsilon(1e-9));
  CHECK(j["startup_s"]["mean"].get<double>() == Approx(1 + 2048.0 / 2747.0).epsilon(1e-12));
  CHECK(j["startup_s"]["approximate"].get<bool>());
  CHECK(j["pools"]["work"]["stable"].get<bool>());
  CHECK(j["pools"]["work"]["min_threads"] == 4);
  CHECK(j["prepare_cost_s"]["mean"].get<double>() == Approx(1.0));
}

TEST_CASE("an unstable pool: the verdict names it and the threads it needs", "[validation][analytic]") {
  // data.stage: 0.73 sessions/s x 10 s = 7.3 threads' worth of work on 6 threads.
  const Scenario sc = test::scenario(R"({"name": "overload", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 0.73},
    "kinds": {
      "image.pull": {"threads": 2, "service_s": {"dist": "exponential", "mean": 1}},
      "data.stage": {"threads": 6, "service_s": {"dist": "lognormal", "mean": 10, "p95": 25}}},
    "templates": [{"name": "t", "steps": [{"id": "i", "kind": "image.pull"}, {"id": "d", "kind": "data.stage"}]}]})");
  const auto j = analyze_json(sc);
  const auto& p = j["pools"]["data.stage"];
  CHECK_FALSE(p["stable"].get<bool>());
  CHECK(p["min_threads"] == 8);
  CHECK(p["utilization"].get<double>() == Approx(7.3 / 6).epsilon(1e-12));
  CHECK(j["kinds"]["data.stage"]["wait_s"]["mean"].is_null());
  CHECK(j["kinds"]["data.stage"]["wait_s"]["p99"].is_null());
  CHECK(j["startup_s"]["mean"].is_null());
  CHECK_FALSE(j["kinds"]["image.pull"]["wait_s"]["mean"].is_null());  // the other pool is fine
  REQUIRE(j["verdicts"].size() >= 1);
  const std::string v = j["verdicts"][0];
  CHECK(v ==
        "pool data.stage is unstable: offered load 7.3 threads' worth of work on 6 threads "
        "(utilization 1.22); it needs at least 8 threads");
  // With 8 threads it is stable.
  const auto fixed = analyze_json(test::scenario(R"({"name": "overload", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 0.73},
    "kinds": {"data.stage": {"threads": 8, "service_s": {"dist": "lognormal", "mean": 10, "p95": 25}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "data.stage"}]}]})"));
  CHECK(fixed["pools"]["data.stage"]["stable"].get<bool>());
}

TEST_CASE("an overloaded link is a verdict of its own, threads do not help", "[validation][analytic]") {
  // 0.1 sessions/s x 3 GB = 300 MB/s on a 200 MB/s link.
  const auto j = analyze_json(test::scenario(R"({"name": "wan", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 0.1},
    "platform": {"hosts": ["se", "store"], "links": [{"name": "wan", "from": "se", "to": "store", "bandwidth_MBps": 200, "latency_s": 0}]},
    "kinds": {"data.stage": {"op": "data", "threads": 50, "service_s": 1, "transfer": {"from": "se", "to": "store"}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "data.stage", "bytes": 3e9}]}]})"));
  CHECK(j["links"]["wan"]["utilization"].get<double>() == Approx(1.5).epsilon(1e-12));
  CHECK_FALSE(j["pools"]["data.stage"]["stable"].get<bool>());
  CHECK(j["pools"]["data.stage"]["min_threads"].is_null());
  REQUIRE(j["verdicts"].size() == 1);
  CHECK(j["verdicts"][0].get<std::string>().find("link wan is overloaded") == 0);
}

TEST_CASE("polls, periodic arrivals and poll dispatch are flagged approximate", "[validation][analytic]") {
  // A poll that is ready exactly 7 s after its activation, polled every 5 s, by one thread that
  // looks for work every second: polls end at 0.5 (the mean dispatch delay), 6 (5 s + 0.5 s
  // later: not ready) and 11.5 (ready): 3 visits.
  const auto j = analyze_json(test::scenario(R"({"name": "poll", "sessions": 10,
    "arrivals": {"process": "periodic", "rate_per_s": 0.1},
    "dispatch": {"mode": "poll", "poll_interval_s": 1},
    "kinds": {"watch": {"op": "poll", "threads": 1, "service_s": 0,
                        "poll": {"interval_s": 5, "ready_after_s": {"dist": "constant", "value": 7}}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "watch"}]}]})"));
  const auto& k = j["kinds"]["watch"];
  CHECK(k["visits_per_session"].get<double>() == Approx(3).epsilon(1e-12));
  CHECK_FALSE(k["exact"].get<bool>());
  // One thread polling every second when idle: a step waits half a second on average (M/G/1
  // with multiple vacations); the service is 0, so there is no queueing wait.
  CHECK(k["wait_s"]["mean"].get<double>() == Approx(0.5).epsilon(1e-12));
  CHECK(k["wait_s"]["p95"].get<double>() == Approx(0.95).epsilon(1e-9));
  CHECK(j["startup_s"]["mean"].get<double>() == Approx(11.5).epsilon(1e-12));
}

TEST_CASE("the table fits 100 columns", "[validation][analytic]") {
  for (const char* f : {"mm4.json", "skaha-basic.json", "skaha-busy.json", "broker-today.json", "srcnet-async.json"}) {
    std::ostringstream out;
    print_analysis(out, analyze_json(load(f)));
    std::istringstream lines(out.str());
    std::string line;
    while (std::getline(lines, line)) {
      INFO(f << ": " << line);
      CHECK(line.size() <= 100);
    }
  }
}

namespace {

// Sessions at `rate` on `nodes` nodes of 8 cores and 64 GB, each asking 2 cores and 8 GB (4 slots
// a node: cores bind), exponential run of 10 s, no start latency, a delete that takes no time:
// the cluster is exactly an M/M/c queue of slots.
std::string cluster_json(int nodes, double rate) {
  return R"({"name": "slots", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": )" +
         std::to_string(rate) + R"(},
    "platform": {"clusters": {"k": {"nodes": [{"count": )" +
         std::to_string(nodes) +
         R"(, "cores": 8, "memory_GB": 64}]}}},
    "dispatch": {"claim_s": 0},
    "kinds": {"launch": {"op": "launch", "threads": 64, "service_s": 0},
              "poll": {"op": "poll", "threads": 64, "poll": {"interval_s": 0.5, "ready_after_s": 0}},
              "delete": {"op": "delete", "threads": 64, "service_s": 0}},
    "templates": [{"name": "t", "session": {"cluster": "k", "cores": 2, "memory_GB": 8,
                                            "run_s": {"dist": "exponential", "mean": 10}},
      "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
      "release": [{"id": "d", "kind": "delete"}]}]})";
}

}  // namespace

TEST_CASE("analyze: identical requests make a cluster an exact M/M/c of slots, and the verdict names the nodes",
          "[validation][analytic]") {
  // 2 nodes x 4 slots; 0.7/s x 10 s = 7 slots' worth: utilisation 0.875.
  const auto j = analyze_json(test::scenario(cluster_json(2, 0.7)));
  const auto& k = j["clusters"]["k"];
  CHECK(k["slots"] == 8);
  CHECK(k["identical_requests"] == true);
  CHECK(k["hold_s"]["mean"].get<double>() == Approx(10).epsilon(1e-9));
  CHECK(k["utilization"].get<double>() == Approx(0.875).epsilon(1e-9));
  CHECK(k["exact"] == true);
  CHECK(k["model"] == "M/M/c cluster slots");
  // Erlang C by the textbook sum: Wq = C(8, 7) / (8 x 0.1 - 0.7).
  const double c = static_cast<double>(erlang_c_reference(8, 7.0L));
  CHECK(k["erlang_c"].get<double>() == Approx(c).epsilon(1e-9));
  CHECK(k["pending_s"]["mean"].get<double>() == Approx(c / (0.8 - 0.7)).epsilon(1e-9));
  // P(W > t) = C e^{-(cμ - λ)t}: the p95 is ln(C / 0.05) / 0.1.
  CHECK(k["pending_s"]["p95"].get<double>() == Approx(std::log(c / 0.05) / 0.1).epsilon(1e-6));
  CHECK(k["nodes_needed"] == 2);              // 8 slots > 7; 4 would not be
  CHECK(k["nodes_at_utilization_0_8"] == 3);  // 7 / 0.8 = 8.75 slots: 12
  bool named = false;
  for (const auto& v : j["verdicts"]) {
    const std::string s = v;
    if (s.rfind("cluster k", 0) == 0) {
      named = true;
      CHECK_THAT(
          s, Catch::Contains("utilization 0.875") && Catch::Contains("Pending 6.35 s") && Catch::Contains("3 nodes"));
    }
  }
  CHECK(named);
}

TEST_CASE("analyze: an overloaded cluster is unstable and the verdict says how many nodes it needs",
          "[validation][analytic]") {
  // 1 node x 4 slots against 7 slots' worth.
  const auto j = analyze_json(test::scenario(cluster_json(1, 0.7)));
  const auto& k = j["clusters"]["k"];
  CHECK(k["stable"] == false);
  CHECK(k["nodes_needed"] == 2);
  CHECK(k["pending_s"]["mean"].is_null());
  CHECK(j["startup_s"]["mean"].is_null());  // start-up waits for the cluster: unbounded
  REQUIRE(j["verdicts"].size() >= 1);
  const std::string v = j["verdicts"][0];
  CHECK_THAT(v, Catch::StartsWith("cluster k cannot keep up") && Catch::Contains("7 slots' worth") &&
                    Catch::Contains("on 4 slots") && Catch::Contains("at least 2 nodes") && Catch::Contains("(has 1)"));
}

TEST_CASE("analyze: mixed requests count the cores of the sessions held, weighted by how long they are held",
          "[validation][analytic]") {
  // Half the sessions ask 1 core for 100 s, half 4 cores for 300 s. Held at any moment: 1 small
  // for every 3 large, 3.25 cores on average (an average per session, 2.5, would claim 25 slots).
  const auto j = analyze_json(test::scenario(R"({"name": "mixed", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 0.01},
    "platform": {"clusters": {"k": {"nodes": [{"count": 2, "cores": 32, "memory_GB": 1000}]}}},
    "dispatch": {"claim_s": 0},
    "kinds": {"launch": {"op": "launch", "threads": 64, "service_s": 0},
              "poll": {"op": "poll", "threads": 64, "poll": {"interval_s": 0.5, "ready_after_s": 0}},
              "delete": {"op": "delete", "threads": 64, "service_s": 0}},
    "templates": [
      {"name": "small", "session": {"cluster": "k", "cores": 1, "memory_GB": 1, "run_s": {"dist": "exponential", "mean": 100}},
       "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
       "release": [{"id": "d", "kind": "delete"}]},
      {"name": "large", "session": {"cluster": "k", "cores": 4, "memory_GB": 1, "run_s": {"dist": "exponential", "mean": 300}},
       "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
       "release": [{"id": "d", "kind": "delete"}]}]})"));
  const auto& k = j["clusters"]["k"];
  CHECK(k["identical_requests"] == false);
  CHECK(k["slots"] == 19);  // floor(64 / 3.25)
  CHECK(k["hold_s"]["mean"].get<double>() == Approx(200).epsilon(1e-9));
  CHECK(k["exact"] == false);
  CHECK(k["utilization"].get<double>() == Approx(0.01 * 200 / 19).epsilon(1e-9));
}

namespace {

// One link "l" from se to site (100 MB/s, no latency, `cap` appended to it): sessions at `rate`/s
// each copy one item of `size` bytes (mean 1 GB: S = 10 s alone) synchronously, so the data
// step's thread is held for the transfer. 100 threads: the pool hardly ever queues, so transfers
// start as the sessions arrive (Poisson).
std::string link_json(double rate, const std::string& cap, const std::string& size) {
  return R"({"name": "link", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": )" +
         std::to_string(rate) + R"(},
    "platform": {"hosts": ["se", "site"],
      "links": [{"name": "l", "from": "se", "to": "site", "bandwidth_MBps": 100, "latency_s": 0)" +
         cap + R"(}]},
    "kinds": {"data": {"op": "data", "threads": 100, "service_s": 0, "transfer": {"from": "se", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "data", "bytes": )" +
         size + "}]}]}";
}
const std::string kExp1GB = R"({"dist": "exponential", "mean": 1e9})";

}  // namespace

TEST_CASE("analyze: a link without a cap is M/M/1-PS, a transfer moves in S/(1 - rho)", "[validation][analytic]") {
  // λ = 0.06/s, S = 1 GB / 100 MB/s = 10 s: ρ = 0.6 and a transfer moves in 10/0.4 = 25 s.
  const auto j = analyze_json(test::scenario(link_json(0.06, "", kExp1GB)));
  const auto& l = j["links"]["l"];
  CHECK(l["transfers_per_s"].get<double>() == Approx(0.06).epsilon(1e-12));
  CHECK(l["utilization"].get<double>() == Approx(0.6).epsilon(1e-12));
  CHECK(l["transfer_s"]["mean"].get<double>() == Approx(25).epsilon(1e-12));
  CHECK(l["queue_wait_s"]["mean"].get<double>() == 0);
  CHECK(l["model"] == "M/M/1-PS");
  CHECK(l["exact"] == true);
  // The synchronous data step holds its thread for the whole transfer.
  CHECK(j["kinds"]["data"]["service_s"]["mean"].get<double>() == Approx(25).epsilon(1e-12));
  // Processor sharing is insensitive to the size distribution: constant sizes, the same mean.
  const auto c = analyze_json(test::scenario(link_json(0.06, "", "1e9")));
  CHECK(c["links"]["l"]["transfer_s"]["mean"].get<double>() == Approx(25).epsilon(1e-12));
  CHECK(c["links"]["l"]["model"] == "M/G/1-PS");
  CHECK(c["links"]["l"]["exact"] == true);
}

TEST_CASE("analyze: an FTS cap c keeps the M/M/1 count, those beyond c wait: cap 1 is FCFS", "[validation][analytic]") {
  const double lambda = 0.06, S = 10, rho = lambda * S;
  // c = 1: M/M/1 FCFS, Wq = ρS/(1 − ρ) = 15 s, then the transfer alone: S.
  const auto one = analyze_json(test::scenario(link_json(lambda, R"(, "max_active": 1)", kExp1GB)));
  const auto& l1 = one["links"]["l"];
  CHECK(l1["queue_wait_s"]["mean"].get<double>() == Approx(rho * S / (1 - rho)).epsilon(1e-12));
  CHECK(l1["queue_wait_s"]["mean"].get<double>() == Approx(15).epsilon(1e-12));
  CHECK(l1["transfer_s"]["mean"].get<double>() == Approx(S).epsilon(1e-12));
  CHECK(l1["model"] == "M/M/1 work-conserving, cap 1");
  CHECK(l1["exact"] == true);
  // The thread waits at the link too: it is held for the slot and the bytes.
  CHECK(one["kinds"]["data"]["service_s"]["mean"].get<double>() == Approx(S / (1 - rho)).epsilon(1e-12));

  // c = 3: E[(N − 3)⁺] = ρ⁴/(1 − ρ), Wq = ρ⁴/((1 − ρ)λ) = 0.1296/0.024 = 5.4 s; moving 25 − 5.4 s.
  const auto three = analyze_json(test::scenario(link_json(lambda, R"(, "max_active": 3)", kExp1GB)));
  const auto& l3 = three["links"]["l"];
  const double wq = std::pow(rho, 4) / ((1 - rho) * lambda);
  CHECK(wq == Approx(5.4).epsilon(1e-12));
  CHECK(l3["queue_wait_s"]["mean"].get<double>() == Approx(wq).epsilon(1e-12));
  CHECK(l3["transfer_s"]["mean"].get<double>() == Approx(S / (1 - rho) - wq).epsilon(1e-12));
  CHECK(l3["model"] == "M/M/1 work-conserving, cap 3");
  CHECK(l3["exact"] == true);

  // Constant sizes under a cap: the same formula, no longer exact.
  const auto d = analyze_json(test::scenario(link_json(lambda, R"(, "max_active": 3)", "1e9")));
  CHECK(d["links"]["l"]["exact"] == false);
  CHECK(d["links"]["l"]["approximations"][0] == "sizes not exponential under the cap");
}

TEST_CASE("analyze: replica choices weight the link load, and a set copies over its fastest route",
          "[validation][analytic]") {
  // A local replica for 60% of sessions (nothing moves); else at "far" (10 MB/s) and "se" (100
  // MB/s): the copy comes from se. Link l carries 0.4 × 0.06 transfers/s, "f" none.
  const auto j = analyze_json(test::scenario(R"({"name": "replicas", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 0.06},
    "platform": {"hosts": ["se", "far", "site"],
      "links": [{"name": "l", "from": "se", "to": "site", "bandwidth_MBps": 100, "latency_s": 0},
                {"name": "f", "from": "far", "to": "site", "bandwidth_MBps": 10, "latency_s": 0}]},
    "kinds": {"data": {"op": "data", "threads": 100, "service_s": 0,
                       "transfer": {"to": "site", "replicas": [{"weight": 0.6, "hosts": ["site"]},
                                                               {"weight": 0.4, "hosts": ["far", "se"]}]}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "data", "bytes": 1e9}]}]})"));
  const double rho = 0.4 * 0.06 * 10;
  CHECK(j["links"]["l"]["transfers_per_s"].get<double>() == Approx(0.4 * 0.06).epsilon(1e-12));
  CHECK(j["links"]["l"]["utilization"].get<double>() == Approx(rho).epsilon(1e-12));
  CHECK(j["links"]["l"]["transfer_s"]["mean"].get<double>() == Approx(10 / (1 - rho)).epsilon(1e-12));
  CHECK(j["links"]["f"]["transfers_per_s"].get<double>() == 0);
  CHECK(j["links"]["f"]["transfer_s"]["mean"].is_null());
  // The thread moves bytes for 40% of sessions only.
  CHECK(j["kinds"]["data"]["service_s"]["mean"].get<double>() == Approx(0.4 * 10 / (1 - rho)).epsilon(1e-12));
}

TEST_CASE("analyze: copies of an item with a count load pools and links by the chance they exist",
          "[validation][analytic]") {
  // Count 1 or 3 (equally likely): copy 1 always, copies 2 and 3 half the time: 2 transfers per
  // session at 0.02/s: ρ = 0.04 × 10 = 0.4. All three copies are claimed (absent ones at no cost).
  auto with_count = [](const std::string& count) {
    return analyze_json(test::scenario(R"({"name": "count", "sessions": 10,
      "arrivals": {"process": "poisson", "rate_per_s": 0.02},
      "platform": {"hosts": ["se", "site"],
        "links": [{"name": "l", "from": "se", "to": "site", "bandwidth_MBps": 100, "latency_s": 0}]},
      "kinds": {"data": {"op": "data", "threads": 100, "service_s": 0, "transfer": {"from": "se", "to": "site"}}},
      "templates": [{"name": "t", "steps": [{"id": "d", "kind": "data", "bytes": 1e9, "count": )" +
                                       count + "}]}]}"));
  };
  const auto j = with_count(R"({"dist": "empirical", "samples": [1, 3]})");
  CHECK(j["links"]["l"]["transfers_per_s"].get<double>() == Approx(0.04).epsilon(1e-12));
  CHECK(j["links"]["l"]["utilization"].get<double>() == Approx(0.4).epsilon(1e-12));
  CHECK(j["kinds"]["data"]["steps_per_session"].get<double>() == 3);
  CHECK(j["kinds"]["data"]["visits_per_session"].get<double>() == Approx(3).epsilon(1e-12));
  CHECK(j["kinds"]["data"]["service_s"]["mean"].get<double>() == Approx(2 * (10 / 0.6) / 3).epsilon(1e-12));
  CHECK(j["links"]["l"]["exact"] == false);  // a session's copies arrive together
  // 2, 3, 3 or 4: copies 1 and 2 always, 3 with probability 3/4, 4 with 1/4: 3 per session.
  const auto k = with_count(R"({"dist": "empirical", "samples": [2, 3, 3, 4]})");
  CHECK(k["links"]["l"]["transfers_per_s"].get<double>() == Approx(3 * 0.02).epsilon(1e-12));
}

namespace {

// Asynchronous staging: the data step submits a rule (0.5 s on one thread); its 1 GB moves 30 s
// later over link l (100 MB/s: S = 10 s), and a poll (every 5 s, no service time) watches it.
std::string rule_json(double rate) {
  return R"({"name": "rules", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": )" +
         std::to_string(rate) + R"(},
    "platform": {"hosts": ["se", "site"],
      "links": [{"name": "l", "from": "se", "to": "site", "bandwidth_MBps": 100, "latency_s": 0}]},
    "kinds": {
      "submit": {"op": "data", "threads": 1, "service_s": 0.5, "transfer": {"from": "se", "to": "site"},
                 "rule": {"delay_s": 30}},
      "ready": {"op": "poll", "threads": 1, "service_s": 0, "poll": {"interval_s": 5, "watch": "rules"}}},
    "templates": [{"name": "t", "steps": [
      {"id": "d", "kind": "submit", "bytes": 1e9}, {"id": "r", "kind": "ready", "after": ["d"]}]}]})";
}

}  // namespace

TEST_CASE("analyze: a rule's transfer holds no thread, it delays the poll that watches it", "[validation][analytic]") {
  const auto j = analyze_json(test::scenario(rule_json(0.01)));
  // ρ = 0.01 × 10 = 0.1: the bytes move in 10/0.9 s.
  const double moving = 10 / 0.9;
  CHECK(j["links"]["l"]["transfer_s"]["mean"].get<double>() == Approx(moving).epsilon(1e-12));
  // The submit pool is busy for the API call only: 0.01/s × 0.5 s on one thread.
  CHECK(j["kinds"]["submit"]["service_s"]["mean"].get<double>() == Approx(0.5).epsilon(1e-12));
  CHECK(j["pools"]["submit"]["utilization"].get<double>() == Approx(0.005).epsilon(1e-12));
  // The poll is ready 30 + 11.1 s after its activation; polls end at 0, 5, …, 45 s: 10 of them.
  // Without the transfer (30 s alone) it would be 1 + 6 = 7.
  CHECK(j["kinds"]["ready"]["visits_per_session"].get<double>() == Approx(10).epsilon(1e-12));
  const double submit_wait = j["kinds"]["submit"]["wait_s"]["mean"];
  CHECK(j["startup_s"]["mean"].get<double>() == Approx(submit_wait + 0.5 + 45).epsilon(1e-12));
  CHECK(j["pools"]["ready"]["utilization"].get<double>() == 0);  // polls of no service hold nothing
  bool noted = false;
  for (const auto& n : j["notes"]) noted = noted || n.get<std::string>().rfind("rules:", 0) == 0;
  CHECK(noted);
}

TEST_CASE("analyze: a rule over an overloaded link: the verdict, and its watching poll never ends",
          "[validation][analytic]") {
  // 0.2/s × 1 GB = 200 MB/s on a 100 MB/s link.
  const auto j = analyze_json(test::scenario(rule_json(0.2)));
  CHECK(j["links"]["l"]["utilization"].get<double>() == Approx(2).epsilon(1e-12));
  CHECK(j["links"]["l"]["stable"] == false);
  CHECK(j["links"]["l"]["transfer_s"]["mean"].is_null());
  CHECK(j["pools"]["submit"]["stable"] == true);  // the submits keep up: they move nothing
  CHECK(j["pools"]["ready"]["stable"] == false);
  CHECK(j["startup_s"]["mean"].is_null());
  REQUIRE(j["verdicts"].size() == 1);
  CHECK_THAT(j["verdicts"][0].get<std::string>(),
             Catch::StartsWith("link l is overloaded: transfers need 200 MB/s of its 100 MB/s (utilization 2)"));
}

TEST_CASE("analyze: a route of two links moves at the slower share, bandwidth x (1 - rho)", "[validation][analytic]") {
  // se -> site over a (100 MB/s, 10 ms) and b (1000 MB/s, 2 ms), 0.05/s × 1 GB: ρ_a = 0.5, ρ_b =
  // 0.05. Shares 50 and 950 MB/s: a transfer takes 0.012 + 1e9/50e6 = 20.012 s on both links.
  const auto j = analyze_json(test::scenario(R"({"name": "hops", "sessions": 10,
    "arrivals": {"process": "poisson", "rate_per_s": 0.05},
    "platform": {"hosts": ["se", "site"],
      "links": [{"name": "a", "bandwidth_MBps": 100, "latency_s": 0.01},
                {"name": "b", "bandwidth_MBps": 1000, "latency_s": 0.002}],
      "routes": [{"from": "se", "to": "site", "links": ["a", "b"]}]},
    "kinds": {"data": {"op": "data", "threads": 100, "service_s": 0, "transfer": {"from": "se", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "data", "bytes": 1e9}]}]})"));
  for (const char* l : {"a", "b"}) {
    INFO("link " << l);
    CHECK(j["links"][l]["transfer_s"]["mean"].get<double>() == Approx(0.012 + 20).epsilon(1e-12));
    CHECK(j["links"][l]["model"] == "PS approximation, multi-hop");
    CHECK(j["links"][l]["exact"] == false);
  }
  CHECK(j["links"]["a"]["utilization"].get<double>() == Approx(0.5).epsilon(1e-12));
  CHECK(j["links"]["b"]["utilization"].get<double>() == Approx(0.05).epsilon(1e-12));
}

TEST_CASE("analyze: links beside the simulator, a cap of 2 and no cap, both within the simulated 95% interval",
          "[analytic][sim]") {
  // Two replica sets, equally likely, each the only one on its link: each link sees Poisson
  // arrivals at 0.6/s of exponential 1 MB transfers at 1 MB/s (ρ = 0.6). Rules with no delay,
  // submitted by a pool that hardly queues, so both link models are exact:
  //   capped (c = 2): FTS wait S·ρ²/(1 − ρ) = 0.9 s, moving S·(1 − ρ²)/(1 − ρ) = 1.6 s;
  //   shared (no cap): moving S/(1 − ρ) = 2.5 s, no wait.
  const Scenario sc = test::scenario(R"({"name": "two-links", "seed": 7, "sessions": 40000,
    "arrivals": {"process": "poisson", "rate_per_s": 1.2},
    "platform": {"hosts": ["a", "b", "site"],
      "links": [{"name": "capped", "from": "a", "to": "site", "bandwidth_MBps": 1, "latency_s": 0, "max_active": 2},
                {"name": "shared", "from": "b", "to": "site", "bandwidth_MBps": 1, "latency_s": 0}]},
    "kinds": {
      "submit": {"op": "data", "threads": 1, "service_s": 0.02, "rule": {"delay_s": 0},
                 "transfer": {"to": "site",
                              "replicas": [{"weight": 1, "hosts": ["a"]}, {"weight": 1, "hosts": ["b"]}]}},
      "ready": {"op": "poll", "threads": 1, "service_s": 0.01, "poll": {"interval_s": 2, "watch": "rules"}}},
    "templates": [{"name": "t", "steps": [
      {"id": "d", "kind": "submit", "bytes": {"dist": "exponential", "mean": 1e6}},
      {"id": "r", "kind": "ready", "after": ["d"]}]}]})");
  const AnalyticResult a = analyze(sc);
  REQUIRE(a.links.size() == 2);
  CHECK(*a.links[0].queue_wait_mean_s == Approx(0.9).epsilon(1e-12));
  CHECK(*a.links[0].transfer_mean_s == Approx(1.6).epsilon(1e-12));
  CHECK(*a.links[1].transfer_mean_s == Approx(2.5).epsilon(1e-12));
  sim::SimOptions opt;
  opt.warmup = sim::Warmup::parse("none");  // link statistics cover the whole run
  sim::ReplicationPlan plan;
  plan.replications = 4;
  auto r = sim::run_replications(sc, opt, plan);
  add_analytic(r, sc, a);
  for (const char* l : {"capped", "shared"}) {
    const auto& lj = r["links"][l];
    INFO(l << ": transfer " << lj["transfer_s"]["ci95"]["mean"] << ", FTS wait " << lj["queue_wait_s"]["ci95"]["mean"]
           << ", theory " << lj["analytic"]);
    CHECK(lj["analytic"]["exact"] == true);
    CHECK(lj["analytic"]["agrees"] == true);
  }
  std::ostringstream out;
  print_comparison(out, r);
  std::istringstream lines(out.str());
  int shown = 0;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("  capped", 0) == 0 || line.rfind("  shared", 0) == 0) {
      INFO(line);
      ++shown;
      CHECK_THAT(line, Catch::Contains(line[2] == 'c' ? "M/M/1 cap 2 " : "M/M/1-PS ") && !Catch::Contains("~") &&
                           !Catch::Contains("<- off"));
    }
  CHECK(shown == 2);
}

TEST_CASE("analyze: lease renewals arrive floor(run_s / every_s) times per session, outside both plans", "[analytic]") {
  const Scenario sc =
      test::scenario(R"({"name": "lease", "sessions": 100, "arrivals": {"process": "poisson", "rate_per_s": 0.1},
    "platform": {"hosts": ["se", "site"], "links": [{"name": "l", "from": "se", "to": "site", "bandwidth_MBps": 100}]},
    "kinds": {"stage": {"op": "data", "threads": 1, "service_s": 0.1, "transfer": {"from": "se", "to": "site"},
                        "rule": {"delay_s": 1}},
              "ready": {"op": "poll", "threads": 1, "poll": {"interval_s": 1, "watch": "rules"}},
              "renew": {"op": "extend", "threads": 1, "service_s": 2},
              "end": {"op": "work", "threads": 1, "service_s": 0}},
    "templates": [{"name": "t", "session": {"run_s": 10000},
      "steps": [{"id": "d", "kind": "stage", "bytes": 1e6}, {"id": "r", "kind": "ready", "after": ["d"]}],
      "release": [{"id": "x", "kind": "end"}], "lease": {"kind": "renew", "lifetime_s": 5000, "every_s": 3000}}]})");
  const AnalyticResult a = analyze(sc);
  const auto& k = a.kinds[sc.kind_index("renew")];
  CHECK(k.arrival_rate_per_s == Approx(0.1 * 3));
  CHECK(k.utilization == Approx(0.1 * 3 * 2));
}
