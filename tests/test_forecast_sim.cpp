// stepq forecast's simulation started from a snapshot (sim/forecast.cpp), against what queueing
// theory says of the same queue: synthetic snapshots, so that the answer is known exactly.
#include <catch2/catch.hpp>

#include <boost/math/distributions/gamma.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "helpers.hpp"
#include "sim/forecast.hpp"

using namespace stepq;

namespace {

Scenario one_kind(const std::string& service, int threads = 1, const std::string& extra_kind = "") {
  return test::scenario(R"({"name": "f", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.5},
    "kinds": {"work": {"threads": )" +
                        std::to_string(threads) + R"(, "service_s": )" + service + "}" + extra_kind +
                        R"(}, "templates": [{"name": "one", "steps": [{"id": "w", "kind": "work"}]}]})");
}

QueueSnapshot::Session session(std::uint64_t id, double accepted, Phase phase, double at) {
  QueueSnapshot::Session s;
  s.index = id;
  s.accepted = accepted;
  QueueSnapshot::Step st;
  st.phase = phase;
  st.activated_at = accepted;
  st.ready_at = phase == Phase::READY ? at : accepted;
  if (phase == Phase::RUNNING) st.claimed_at = at;
  if (phase == Phase::WAITING) st.due = at;
  s.steps.push_back(st);
  return s;
}

double mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

TEST_CASE("forecast: one exponential server, the k-th in line starts up after k+1 services (Erlang)") {
  // One thread, exponential service of mean 1: by memorylessness the RUNNING step's remaining
  // service is exponential whatever it has run, so session k of the line (0 running, 1..5
  // READY) ends after Gamma(k+1, 1), and the new session after Gamma(7, 1). Later arrivals queue
  // behind them (FIFO) and cannot change that.
  const Scenario sc = one_kind(R"({"dist": "exponential", "mean": 1})");
  QueueSnapshot snap;
  snap.sessions.push_back(session(0, -9, Phase::RUNNING, -4));
  for (int k = 1; k <= 5; ++k)
    snap.sessions.push_back(session(static_cast<std::uint64_t>(k), -8.0 + k, Phase::READY, -8.0 + k));
  snap.next_index = 6;
  sim::ForecastPlan plan;
  plan.replications = 300;
  const sim::Forecast f = sim::run_forecast(sc, snap, plan);
  REQUIRE(f.startup.size() == 6);
  REQUIRE(f.probe.size() == 300);
  for (int k = 0; k <= 6; ++k) {
    std::vector<double> rest;
    for (double x : k < 6 ? f.startup[static_cast<std::size_t>(k)] : f.probe)
      rest.push_back(x + (k < 6 ? snap.sessions[static_cast<std::size_t>(k)].accepted : 0));
    REQUIRE(rest.size() == 300);
    INFO("session " << k);
    // Mean k+1, standard error sqrt(k+1)/sqrt(300): 4 of them.
    CHECK(std::abs(mean(rest) - (k + 1)) < 4 * std::sqrt(k + 1.0) / std::sqrt(300.0));
    std::sort(rest.begin(), rest.end());
    const double p95 = boost::math::quantile(boost::math::gamma_distribution<>(k + 1, 1), 0.95);
    const double below = static_cast<double>(std::upper_bound(rest.begin(), rest.end(), p95) - rest.begin()) / 300;
    CHECK(below == Approx(0.95).margin(0.05));  // binomial sd 0.0126
  }
}

TEST_CASE("forecast: a RUNNING step runs on for its service beyond what it ran, not a fresh one") {
  // Service uniform on 0..10 s; the step has run 6 s, so it ends in U(0, 4): mean 2, at most 4.
  // A fresh draw would have mean 5 and reach 10.
  const Scenario sc = one_kind(R"({"dist": "uniform", "min": 0, "max": 10})");
  QueueSnapshot snap;
  snap.sessions.push_back(session(0, -6, Phase::RUNNING, -6));
  snap.next_index = 1;
  sim::ForecastPlan plan;
  plan.replications = 100;
  const sim::Forecast f = sim::run_forecast(sc, snap, plan);
  std::vector<double> rest;
  for (double x : f.startup[0]) rest.push_back(x - 6);
  CHECK(*std::max_element(rest.begin(), rest.end()) <= 4 + 1e-9);
  CHECK(*std::min_element(rest.begin(), rest.end()) >= 0);
  CHECK(std::abs(mean(rest) - 2) < 4 * (4 / std::sqrt(12.0)) / 10);  // sd of U(0,4) over sqrt(100)
}

TEST_CASE(
    "forecast: a WAITING step wakes when due, a poll is ready beyond its last look, and a session past start-up is not "
    "forecast") {
  // Constant service 1 s. Session 0 waits until +3 s: starts up at age 5 + 3 + 1. Session 1 is a
  // poll whose thing becomes ready U(0, 20) s after activation, last seen not ready 15 s in: it is
  // ready in U(15, 20), seen by the first look after (a look every 2 s, each 1 s long).
  const Scenario sc =
      test::scenario(R"({"name": "f", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.01},
    "kinds": {"work": {"threads": 2, "service_s": {"dist": "constant", "value": 1}},
              "watch": {"threads": 2, "service_s": {"dist": "constant", "value": 1},
                        "poll": {"interval_s": 2, "ready_after_s": {"dist": "uniform", "min": 0, "max": 20}}}},
    "templates": [{"name": "one", "steps": [{"id": "w", "kind": "work"}]},
                  {"name": "polled", "steps": [{"id": "p", "kind": "watch"}]}]})");
  QueueSnapshot snap;
  snap.sessions.push_back(session(0, -5, Phase::WAITING, 3));
  QueueSnapshot::Session polled = session(1, -16, Phase::WAITING, 0.5);
  polled.tmpl = 1;
  polled.steps[0].not_ready_after = 15;
  snap.sessions.push_back(polled);
  QueueSnapshot::Session done = session(2, -30, Phase::COMPLETED, -29);
  done.started_at = -28;
  snap.sessions.push_back(done);
  snap.next_index = 3;
  sim::ForecastPlan plan;
  plan.replications = 60;
  const sim::Forecast f = sim::run_forecast(sc, snap, plan);
  REQUIRE(f.startup[0].size() == 60);
  for (double x : f.startup[0]) CHECK(x == Approx(9));
  for (double x : f.startup[1]) {
    // Ready at activation + U(15, 20), i.e. −1..+4 s from now; looks at 0.5+1, then every 3 s.
    CHECK(x - 16 >= 1.5 - 1e-9);
    CHECK(x - 16 <= 7.5 + 1e-9);
  }
  double early = 0;  // ready by 1.5 (a look at 0.5..1.5) only if the draw fell in 15..17.5: P = 1/2
  for (double x : f.startup[1]) early += x - 16 < 1.5 + 1e-6;
  CHECK(early / 60 == Approx(0.5).margin(0.25));
  CHECK(f.startup[2].empty());
}

TEST_CASE("forecast: on a cluster, placed sessions hold their slots for their run and the queue goes in order") {
  // Two one-core slots; every step takes no time, a session runs 10 s once Running, Running as
  // soon as it is admitted, and its poll looks once a second. S0 and S1 hold the slots, Running
  // since -6 and -3: they give them back at 4 and 7. S2 and S3 wait, submitted at -5 and -4, their
  // polls next looking at 0.5 and 0.2: S2 is admitted at 4 and seen Running at 4.5, S3 at 7 and
  // 7.2. Start-up counts from acceptance (-5.5 and -4.5): 10 and 11.7 exactly.
  const Scenario sc =
      test::scenario(R"({"name": "c", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.001},
    "platform": {"clusters": {"k": {"nodes": [{"count": 1, "cores": 2, "memory_GB": 8}]}}},
    "kinds": {"launch": {"op": "launch", "threads": 2, "service_s": 0},
              "running": {"op": "poll", "threads": 2, "service_s": 0, "poll": {"interval_s": 1, "ready_after_s": 0}},
              "delete": {"op": "delete", "threads": 2, "service_s": 0}},
    "templates": [{"name": "s", "session": {"cluster": "k", "cores": 1, "memory_GB": 1, "run_s": 10},
                   "steps": [{"id": "l", "kind": "launch"}, {"id": "r", "kind": "running", "after": ["l"]}],
                   "release": [{"id": "d", "kind": "delete"}]}]})");
  using State = QueueSnapshot::Compute::State;
  const auto make = [](std::uint64_t id, double accepted, State state, double submitted, double running_at) {
    QueueSnapshot::Session s;
    s.index = id;
    s.accepted = accepted;
    s.compute.state = state;
    s.compute.cores = 1, s.compute.memory_GB = 1;
    s.compute.submitted_at = submitted;
    s.compute.node = state == State::placed ? 0 : -1;
    s.compute.admitted_at = state == State::placed ? running_at : QueueSnapshot::kNone;
    s.compute.running_at = running_at;
    QueueSnapshot::Step launch, poll, del;
    launch.phase = Phase::COMPLETED;
    poll.phase = std::isnan(running_at) ? Phase::WAITING : Phase::COMPLETED;
    poll.activated_at = submitted;
    del.phase = Phase::DORMANT;
    s.steps = {launch, poll, del};
    if (!std::isnan(running_at)) s.started_at = running_at;
    return s;
  };
  QueueSnapshot snap;
  snap.sessions.push_back(make(0, -7, State::placed, -6.5, -6));
  snap.sessions.push_back(make(1, -4, State::placed, -3.5, -3));
  snap.sessions.push_back(make(2, -5.5, State::queued, -5, QueueSnapshot::kNone));
  snap.sessions.back().steps[1].due = 0.5;
  snap.sessions.push_back(make(3, -4.5, State::queued, -4, QueueSnapshot::kNone));
  snap.sessions.back().steps[1].due = 0.2;
  snap.next_index = 4;
  sim::ForecastPlan plan;
  plan.replications = 4;
  const sim::Forecast f = sim::run_forecast(sc, snap, plan);
  CHECK(f.startup[0].empty());  // running: past start-up
  CHECK(f.startup[1].empty());
  REQUIRE(f.startup[2].size() == 4);
  for (double x : f.startup[2]) CHECK(x == Approx(10));
  for (double x : f.startup[3]) CHECK(x == Approx(11.7));
  // The new session queues behind both: the first slot comes back when S2's run ends, at 14.
  for (double x : f.probe) CHECK(x >= 14);
}

TEST_CASE("forecast: a copy under way moves only what it had left, and a rule in flight keeps its poll waiting") {
  // Two links of 100 MB/s, no latency. Session 0 is copying 1 GB from se1 (its 1 s service is
  // behind it) with 500 MB left: done at 5, start-up 4 + 5 = 9. Session 1's rule from se2 waits
  // 2 s more, then moves its last 100 MB (1 s): done at 3; its poll looks at 0.5, 1.5, 2.5, 3.5,
  // so it starts up at 3.5, 6 + 3.5 = 9.5 after acceptance. Drawn afresh, the copy would take its
  // service and the whole 10 s again, and the poll would find the rule done at its first look.
  const Scenario sc =
      test::scenario(R"({"name": "n", "sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 0.001},
    "platform": {"hosts": ["se1", "se2", "site"],
                 "links": [{"name": "a", "from": "se1", "to": "site", "bandwidth_MBps": 100},
                           {"name": "b", "from": "se2", "to": "site", "bandwidth_MBps": 100}]},
    "kinds": {"copy": {"op": "data", "threads": 1, "service_s": 1, "transfer": {"from": "se1", "to": "site"}},
              "rule": {"op": "data", "threads": 1, "service_s": 0, "transfer": {"from": "se2", "to": "site"},
                       "rule": {"delay_s": 7}},
              "watch": {"op": "poll", "threads": 1, "service_s": 0, "poll": {"interval_s": 1, "watch": "rules"}}},
    "templates": [{"name": "copied", "steps": [{"id": "c", "kind": "copy", "bytes": 1e9}]},
                  {"name": "ruled", "steps": [{"id": "r", "kind": "rule", "bytes": 1e9},
                                              {"id": "w", "kind": "watch", "after": ["r"]}]}]})");
  const auto route_from = [&](const std::string& host) {
    for (std::size_t r = 0; r < sc.platform.routes.size(); ++r)
      if (sc.platform.routes[r].from == host) return static_cast<int>(r);
    return -1;
  };
  QueueSnapshot snap;
  snap.sessions.push_back(session(0, -4, Phase::RUNNING, -3));
  QueueSnapshot::Session ruled;
  ruled.index = 1;
  ruled.tmpl = 1;
  ruled.accepted = -6;
  QueueSnapshot::Step r, w;
  r.phase = Phase::COMPLETED;
  w.phase = Phase::WAITING;
  w.activated_at = -5;
  w.due = 0.5;
  ruled.steps = {r, w};
  snap.sessions.push_back(ruled);
  snap.transfers.push_back({0, 0, 1, route_from("se1"), 5e8, 0});
  snap.transfers.push_back({1, 0, 1, route_from("se2"), 1e8, 2});
  snap.next_index = 2;
  sim::ForecastPlan plan;
  plan.replications = 4;
  const sim::Forecast f = sim::run_forecast(sc, snap, plan);
  for (double x : f.startup[0]) CHECK(x == Approx(9));
  for (double x : f.startup[1]) CHECK(x == Approx(9.5));
}
