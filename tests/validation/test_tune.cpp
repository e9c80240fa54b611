// `stepq tune` against theory and against its own promises: the smallest M/M/c pool that meets
// an Erlang C wait target; a multi-kind answer that holds with fresh seeds and is locally
// minimal; an honest "not met" when the budget is too small; the same answer for the same seed;
// the nodes a capacity-bound cluster needs, and the node cost deciding between threads and nodes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/analytic.hpp"
#include "core/scenario_load.hpp"
#include "sim/tune.hpp"
#include "validation/theory.hpp"

using namespace stepq;

namespace {

Scenario mmc() {
  return parse_scenario(R"({
    "name": "mmc", "seed": 11, "sessions": 200000,
    "arrivals": {"process": "poisson", "rate_per_s": 6.3},
    "dispatch": {"mode": "notify", "claim_s": 0},
    "kinds": {"work": {"threads": 1, "service_s": {"dist": "exponential", "mean": 1.0}}},
    "templates": [{"name": "single", "steps": [{"id": "w", "kind": "work"}]}]
  })",
                        "mmc.json");
}

// fetch and prep in parallel, then run: three pools, a DAG, non-exponential service.
Scenario multi() {
  return parse_scenario(R"({
    "name": "multi", "seed": 3, "sessions": 20000,
    "arrivals": {"process": "poisson", "rate_per_s": 1.0},
    "dispatch": {"mode": "notify", "claim_s": 0},
    "kinds": {
      "fetch": {"threads": 1, "service_s": {"dist": "exponential", "mean": 1.5}},
      "prep": {"threads": 1, "service_s": {"dist": "lognormal", "mean": 0.8, "p95": 2}},
      "run": {"threads": 1, "service_s": {"dist": "exponential", "mean": 2.5}}
    },
    "templates": [{"name": "t", "steps": [
      {"id": "f", "kind": "fetch"}, {"id": "p", "kind": "prep"}, {"id": "r", "kind": "run", "after": ["f", "p"]}]}]
  })",
                        "multi.json");
}

// Sessions hold one of 4 one-core slots per node for ~4 s at 0.8/s: utilisation 0.8 on one node
// (Erlang C, the Pending p95 is 12.4 s), 0.4 on two (hardly any wait). `launch` sets the launch
// pool: with no service time (the default) threads cannot matter, only nodes do.
Scenario cap(const std::string& launch = R"("service_s": 0)") {
  return parse_scenario(R"({"name": "cap", "seed": 3, "sessions": 20000,
    "arrivals": {"process": "poisson", "rate_per_s": 0.8},
    "platform": {"clusters": {"k": {"nodes": [{"count": 1, "cores": 4, "memory_GB": 64}]}}},
    "kinds": {"launch": {"op": "launch", "threads": 4, )" +
                            launch + R"(},
              "poll": {"op": "poll", "threads": 4, "poll": {"interval_s": 1, "ready_after_s": 0}},
              "delete": {"op": "delete", "threads": 8, "service_s": 0}},
    "templates": [{"name": "t", "session": {"cluster": "k", "cores": 1, "memory_GB": 1,
                                            "run_s": {"dist": "exponential", "mean": 4}},
      "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
      "release": [{"id": "d", "kind": "delete"}]}]})",
                        "cap.json");
}

sim::TunePlan plan(const std::string& target, double seconds) {
  sim::TunePlan p;
  p.targets.push_back({target, seconds});
  return p;
}

double p95_with(const Scenario& base, const std::vector<int>& threads, std::uint64_t seed) {
  Scenario s = base;
  for (std::size_t p = 0; p < threads.size(); ++p) s.pools[p].threads = threads[p];
  s.seed = seed;
  sim::ReplicationPlan rp;
  rp.replications = 8;
  return sim::run_replications(s, sim::SimOptions{}, rp)["startup_s"]["p95"].get<double>();  // as tune: auto
}

}  // namespace

TEST_CASE("tune: M/M/c (6.3/s, mean 1 s) gets exactly the smallest c whose Erlang C p95 wait meets the target") {
  const Scenario sc = mmc();
  // Targets between consecutive c (p95 waits 3.81, 1.27, 0.59, 0.26 s for c = 7..10).
  for (double target : {2.5, 0.9, 0.4}) {
    int expected = 1;
    while (theory::mmc_wait_quantile(expected, 6.3, 1.0, 0.95) > target || expected <= 6.3) ++expected;
    const auto r = sim::tune(sc, plan("wait.p95", target));
    INFO("target " << target << " s: Erlang C says c = " << expected);
    CHECK(r.met);
    CHECK(r.threads == std::vector<int>{expected});
    CHECK(r.json["pools"]["work"]["threads"] == expected);
    CHECK(r.json["verified"]["met"] == true);
  }
}

TEST_CASE("tune: a multi-kind answer meets the target with fresh seeds, and every thread in it is needed") {
  const Scenario sc = multi();
  const double target = 12;
  const auto r = sim::tune(sc, plan("p95", target));
  REQUIRE(r.met);
  REQUIRE(r.json["startup_s"]["p95"].get<double>() <= target);  // the tuner's own fresh-seed check
  CHECK(r.json["total_threads"] == r.threads[0] + r.threads[1] + r.threads[2]);
  CHECK(r.json.contains("/startup_s/ci95/p95"_json_pointer));
  const std::uint64_t fresh = 424242;  // seeds neither the search nor its verification used
  CHECK(p95_with(sc, r.threads, fresh) <= target);
  for (std::size_t p = 0; p < r.threads.size(); ++p) {
    auto fewer = r.threads;
    if (--fewer[p] == 0) continue;
    INFO("one thread fewer in pool " << sc.pools[p].name);
    CHECK(p95_with(sc, fewer, fresh) > target);
  }
}

TEST_CASE("tune: a budget too small is reported as not met, with the best reachable value") {
  const Scenario sc = multi();
  auto p = plan("p95", 12);
  p.max_threads = 7;  // the analytic start needs 6; the answer needs 9
  const auto r = sim::tune(sc, p);
  CHECK_FALSE(r.met);
  CHECK(r.json["met"] == false);
  CHECK(r.json["total_threads"].get<int>() <= 7);
  REQUIRE(r.json.contains("best_reachable"));
  CHECK(r.json["best_reachable"]["p95"].get<double>() > 12);
  CHECK(r.json["search"]["stopped"].get<std::string>().find("--max-threads") != std::string::npos);
}

TEST_CASE("tune: the same seed gives the same answer") {
  const Scenario sc = multi();
  const auto a = sim::tune(sc, plan("p95", 12));
  const auto b = sim::tune(sc, plan("p95", 12));
  CHECK(a.threads == b.threads);
  CHECK(a.json["search"]["path"] == b.json["search"]["path"]);
  CHECK(a.json["startup_s"] == b.json["startup_s"]);
}

TEST_CASE("tune CLI: --apply writes the scenario with the chosen sizes, bad arguments exit 2 naming them") {
  const std::string bin = STEPQ_BINARY, src = STEPQ_SOURCE_DIR;
  const std::string dir = "/tmp/stepq-tune-cli-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto sh = [&](const std::string& cmd) { return WEXITSTATUS(std::system((cmd + " 2>" + dir + "/err").c_str())); };
  auto err = [&] {
    std::ifstream f(dir + "/err");
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  REQUIRE(sh(bin + " tune " + src + "/scenarios/mm4.json --target wait.p95=0.5 --sessions 40000 --quiet --json " + dir +
             "/t.json --apply " + dir + "/tuned.json") == 0);
  std::ifstream tj(dir + "/t.json");
  const auto t = nlohmann::json::parse(tj);
  REQUIRE(t["met"] == true);
  REQUIRE(sh(bin + " validate " + dir + "/tuned.json > /dev/null") == 0);
  std::ifstream aj(dir + "/tuned.json");
  const Scenario applied = parse_scenario(std::string(std::istreambuf_iterator<char>(aj), {}), "tuned.json");
  CHECK(applied.pools[0].threads == t["pools"]["work"]["threads"].get<int>());

  CHECK(sh(bin + " tune " + src + "/scenarios/mm4.json --target p90=3") == 2);
  CHECK_THAT(err(), Catch::Contains("--target p90=3"));
  CHECK(sh(bin + " tune " + src + "/scenarios/mm4.json --target p95=-1") == 2);
  CHECK_THAT(err(), Catch::Contains("positive number"));
  CHECK(sh(bin + " tune " + src + "/scenarios/mm4.json --target p95=3 --weights nosuch=2") == 2);
  CHECK_THAT(err(), Catch::Contains("--weights nosuch=2") && Catch::Contains("work"));
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "tune: a capacity-bound cluster gets the 2 nodes a start-up p95 of 5 s needs, and pools stay at their minima") {
  Scenario sc = cap();
  // Why 5 s: analyze's Erlang C puts the Pending p95 at 12.4 s on 1 node (its least for
  // stability) and under 1 s on 2.
  const AnalyticResult one = analyze(sc);
  REQUIRE(one.clusters[0].nodes_needed == 1);
  REQUIRE(one.clusters[0].pending->p95 > 10);
  sc.platform.clusters[0].nodes[0].count = 2;
  const AnalyticResult two = analyze(sc);
  REQUIRE(two.clusters[0].pending->p95 < 1);
  sc.platform.clusters[0].nodes[0].count = 1;

  auto p = plan("p95", 5);
  p.search_sessions = 5000;
  const auto r = sim::tune(sc, p);
  CHECK(r.met);
  CHECK(r.nodes == std::vector<int>{2});
  for (std::size_t i = 0; i < r.threads.size(); ++i) {
    INFO("pool " << sc.pools[i].name);
    CHECK(r.threads[i] == std::max(1, two.pools[i].min_threads));  // no thread bought: none helps
  }
  CHECK(r.json["verified"]["met"] == true);
  CHECK(r.json["clusters"]["k"]["nodes"] == 2);
  CHECK(r.json["total_nodes"] == 2);
  CHECK(r.json["clusters"]["k"]["cost_per_node"] == sim::kNodeCost);
  CHECK(r.json["clusters"]["k"]["utilization"].get<double>() == Approx(0.4).margin(0.03));  // 0.8/s x 4 s / 8 slots
  CHECK(r.json["search"]["path"][0]["nodes"]["k"] == 1);  // started at analyze's nodes_needed
  // And 2 is not more than needed: 1 node misses the target with seeds the search never used.
  CHECK(p95_with(sc, r.threads, 424242) > 5);
}

TEST_CASE("tune: the node cost decides between a thread and a node when either meets the target") {
  // A launch pool at utilisation 0.8 (1 thread, exponential 1 s) and the cluster at 0.8: start-up
  // p95 23 s. One more launch thread (17 s) or one more node (16 s) each meets 18 s.
  const Scenario sc = cap(R"("service_s": {"dist": "exponential", "mean": 1})");
  auto p = plan("p95", 18);
  p.search_sessions = 5000;
  p.verify_replications = 2;
  const auto dear = sim::tune(sc, p);  // a node costs 10 threads: the thread gains more per cost
  REQUIRE(dear.met);
  CHECK(dear.threads == std::vector<int>{2, 1, 1});
  CHECK(dear.nodes == std::vector<int>{1});
  CHECK(dear.json["cost"].get<double>() == Approx(4 * 1.0 + 1 * 10.0));
  p.node_weights = {0.5};
  p.weights = {1, 2, 3};
  const auto cheap = sim::tune(sc, p);  // a node at half a thread: the node gains more per cost
  REQUIRE(cheap.met);
  CHECK(cheap.threads == std::vector<int>{1, 1, 1});
  CHECK(cheap.nodes == std::vector<int>{2});
  CHECK(cheap.json["clusters"]["k"]["cost_per_node"] == 0.5);
  CHECK(cheap.json["cost"].get<double>() == Approx(1 * 1.0 + 1 * 2.0 + 1 * 3.0 + 2 * 0.5));  // Σ threads·w + Σ nodes·w
  CHECK(cheap.json["search"]["path"].back()["action"] == "add a node");
}

TEST_CASE("tune: a cluster whose first node group fits no session is refused before any simulation") {
  Scenario sc = cap();
  // Sessions of 4 cores: the 2-core first group holds none, the one 4-core node is overloaded.
  sc.platform.clusters[0].nodes = {{3, 2, 64}, {1, 4, 64}};
  for (auto& t : sc.templates) t.session->cores = Dist::constant(4);
  CHECK_THROWS_WITH(sim::tune(sc, plan("p95", 5)), Catch::Contains("cluster k") && Catch::Contains("first node group"));
}

TEST_CASE("tune CLI: with clusters --apply writes nodes[0].count and bad --node-cost or --max-nodes exit 2") {
  const std::string bin = STEPQ_BINARY;
  const std::string dir = "/tmp/stepq-tune-nodes-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto sh = [&](const std::string& cmd) { return WEXITSTATUS(std::system((cmd + " 2>" + dir + "/err").c_str())); };
  auto text = [&](const std::string& file) {
    std::ifstream f(dir + "/" + file);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  {  // the scenario of the tests above, as a file
    std::ofstream f(dir + "/cap.json");
    f << R"({"name": "cap", "seed": 3, "sessions": 20000,
      "arrivals": {"process": "poisson", "rate_per_s": 0.8},
      "platform": {"clusters": {"k": {"nodes": [{"count": 1, "cores": 4, "memory_GB": 64}]}}},
      "kinds": {"launch": {"op": "launch", "threads": 4, "service_s": 0},
                "poll": {"op": "poll", "threads": 4, "poll": {"interval_s": 1, "ready_after_s": 0}},
                "delete": {"op": "delete", "threads": 8, "service_s": 0}},
      "templates": [{"name": "t", "session": {"cluster": "k", "cores": 1, "memory_GB": 1,
                                              "run_s": {"dist": "exponential", "mean": 4}},
        "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
        "release": [{"id": "d", "kind": "delete"}]}]})";
  }
  const std::string tune = bin + " tune " + dir + "/cap.json --target p95=5 --search-sessions 3000 --sessions 6000 ";
  // --report too: a start-up p50 of 0 s (hardly any session waits) once sent the chart's log axis
  // to 0, and its tick loop never ended.
  REQUIRE(sh(tune + "--verify-replications 2 --quiet --json " + dir + "/t.json --apply " + dir +
             "/tuned.json --report " + dir + "/t.html") == 0);
  const auto t = nlohmann::json::parse(text("t.json"));
  REQUIRE(t["clusters"]["k"]["nodes"] == 2);
  CHECK(std::filesystem::file_size(dir + "/t.html") > 0);
  REQUIRE(sh(bin + " validate " + dir + "/tuned.json > /dev/null") == 0);
  const std::string tuned = text("tuned.json");
  CHECK_THAT(tuned.substr(0, tuned.find('\n')), Catch::Contains("first-group nodes: k=2"));
  const Scenario applied = parse_scenario(tuned, "tuned.json");
  CHECK(applied.platform.clusters[0].nodes[0].count == 2);
  CHECK(applied.pools[0].threads == t["pools"]["launch"]["threads"].get<int>());

  CHECK(sh(tune + "--node-cost nosuch=3") == 2);
  CHECK_THAT(text("err"), Catch::Contains("--node-cost nosuch=3") && Catch::Contains("(k)"));
  CHECK(sh(tune + "--node-cost k=0") == 2);
  CHECK_THAT(text("err"), Catch::Contains("--node-cost k=0") && Catch::Contains("positive number"));
  // At 1.2/s sessions hold 4.8 slots: 2 nodes just to keep up.
  CHECK(sh(tune + "--set /arrivals/rate_per_s=1.2 --max-nodes 1") == 2);
  CHECK_THAT(text("err"), Catch::Contains("--max-nodes 1") && Catch::Contains("2 nodes"));
  std::filesystem::remove_all(dir);
}
