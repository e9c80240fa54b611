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

Scenario load(const std::string& name) { return load_scenario_file(std::string(STEPQ_SOURCE_DIR) + "/scenarios/" + name); }

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
  const double mm1 = rho / (1 / es - lambda);             // M/M/1
  const double md1 = rho / (2 * (1 / es) * (1 - rho));   // P–K with Cs² = 0
  CHECK(ggc_mean_wait(1, lambda, es, 1, 0) == Approx(md1).epsilon(1e-12));
  CHECK(md1 == Approx(mm1 / 2).epsilon(1e-12));

  // Through analyze: constant service 1 s, Poisson 0.7/s, one thread.
  const Scenario sc = test::scenario(R"({"name": "md1", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.7},
    "kinds": {"work": {"threads": 1, "service_s": {"dist": "constant", "value": 1}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})");
  const AnalyticResult r = analyze(sc);
  REQUIRE(r.kinds[0].wait);
  CHECK(r.kinds[0].wait->mean == Approx(md1).epsilon(1e-12));
  CHECK(r.kinds[0].service_scv == 0);
  CHECK_FALSE(r.pools[0].exact);
  CHECK(r.pools[0].model == "M/D/c Allen-Cunneen");

  // M/G/1 with uniform(0, 2) service: P–K, λE[S²]/(2(1−ρ)), E[S²] = 4/3.
  const Scenario mg1 = test::scenario(R"({"name": "mg1", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.7},
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
  CHECK(v == "pool data.stage is unstable: offered load 7.3 threads' worth of work on 6 threads "
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
  for (const char* f : {"mm4.json", "skaha-basic.json", "skaha-busy.json", "broker-today.json"}) {
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
    "platform": {"clusters": {"k": {"nodes": [{"count": )" + std::to_string(nodes) +
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
  CHECK(k["nodes_needed"] == 2);               // 8 slots > 7; 4 would not be
  CHECK(k["nodes_at_utilization_0_8"] == 3);   // 7 / 0.8 = 8.75 slots: 12
  bool named = false;
  for (const auto& v : j["verdicts"]) {
    const std::string s = v;
    if (s.rfind("cluster k", 0) == 0) {
      named = true;
      CHECK_THAT(s, Catch::Contains("utilization 0.875") && Catch::Contains("Pending 6.35 s") &&
                        Catch::Contains("3 nodes"));
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
                    Catch::Contains("on 4 slots") && Catch::Contains("at least 2 nodes") &&
                    Catch::Contains("(has 1)"));
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
