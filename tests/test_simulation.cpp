#include <catch2/catch.hpp>

#include <map>

#include "core/model_services.hpp"
#include "sim/replications.hpp"
#include "helpers.hpp"

using namespace stepq;
using test::kind;

namespace {

std::string mm_c(int threads, int sessions, const std::string& dispatch = R"({"mode": "notify"})") {
  return R"({"name": "mmc", "sessions": )" + std::to_string(sessions) +
         R"(, "arrivals": {"process": "poisson", "rate_per_s": 3.2}, "dispatch": )" + dispatch +
         R"(, "kinds": {"work": {"threads": )" + std::to_string(threads) +
         R"(, "service_s": {"dist": "exponential", "mean": 1.0}}},
    "templates": [{"name": "single", "steps": [{"id": "w", "kind": "work"}]}]})";
}

// Broker-shaped sessions with random costs, to exercise dependencies under load.
const char* kBroker = R"({
  "name": "broker", "sessions": 1500, "arrivals": {"process": "poisson", "rate_per_s": 0.2},
  "dispatch": {"mode": "notify", "dependencies": "activate", "recheck_s": 2},
  "kinds": {
    "image": {"op": "image", "threads": 2, "service_s": {"dist": "exponential", "mean": 2}},
    "storage": {"op": "storage", "threads": 1, "service_s": {"dist": "exponential", "mean": 0.5}},
    "data": {"op": "data", "threads": 4, "service_s": {"dist": "lognormal", "mean": 4, "p95": 10},
             "retry": {"max_attempts": 3, "failure_probability": 0.05, "backoff_s": 1}},
    "launch": {"op": "launch", "threads": 1, "service_s": {"dist": "uniform", "min": 0.1, "max": 0.5}},
    "poll": {"op": "poll", "threads": 1, "poll": {"interval_s": 2, "ready_after_s": {"dist": "exponential", "mean": 5}}}
  },
  "templates": [{"name": "t", "steps": [
    {"id": "exe", "kind": "image"},
    {"id": "s1", "kind": "storage"}, {"id": "s2", "kind": "storage"},
    {"id": "d1", "kind": "data", "after": ["s1"]}, {"id": "d2", "kind": "data", "after": ["s1"]},
    {"id": "d3", "kind": "data", "after": ["s2"]},
    {"id": "launch", "kind": "launch", "after": ["exe", "s1", "s2", "d1", "d2", "d3"]},
    {"id": "up", "kind": "poll", "after": ["launch"]}
  ]}]
})";

// Services that throw if a step's handler starts before each of its predecessors completed.
class OrderChecker : public ModelServices {
 public:
  using ModelServices::ModelServices;
  OpResult pull_image(const StepContext& c) override {
    return wrap(c, [&] { return ModelServices::pull_image(c); });
  }
  OpResult allocate_storage(const StepContext& c) override {
    return wrap(c, [&] { return ModelServices::allocate_storage(c); });
  }
  OpResult stage_data(const StepContext& c) override {
    return wrap(c, [&] { return ModelServices::stage_data(c); });
  }
  OpResult launch(const StepContext& c) override {
    return wrap(c, [&] { return ModelServices::launch(c); });
  }
  OpResult poll(const StepContext& c) override {
    return wrap(c, [&] { return ModelServices::poll(c); });
  }
  OpResult work(const StepContext& c) override {
    return wrap(c, [&] { return ModelServices::work(c); });
  }

 private:
  template <class Op>
  OpResult wrap(const StepContext& c, Op op) {
    for (int p : c.scenario.templates[c.ref.tmpl].plan.preds[c.ref.step])
      if (!done_.count({c.ref.session, p}))
        throw std::logic_error("session " + std::to_string(c.ref.session) + ": step " + c.step.id +
                               " started before its predecessor " + c.scenario.templates[c.ref.tmpl].steps[p].id +
                               " completed");
    OpResult r = op();
    if (r.ok && r.ready) done_[{c.ref.session, c.ref.step}] = clock_.now();
    return r;
  }
  std::map<std::pair<std::uint64_t, int>, double> done_;
};

nlohmann::ordered_json without_wall_clock(nlohmann::ordered_json r) {
  r["run"].erase("wall_s");
  r["run"].erase("steps_per_wall_s");
  return r;
}

}  // namespace

TEST_CASE("M/M/4 (scenarios/mm4.json shape): mean wait within 3% of Erlang C 0.7455 s", "[sim]") {
  const auto r = test::simulate(test::scenario(mm_c(4, 200000)));
  CHECK(r["sessions"]["started"] == 200000);
  CHECK(kind(r, "work")["wait_s"]["mean"].get<double>() == Approx(0.7455).epsilon(0.03));
  CHECK(r["startup_s"]["mean"].get<double>() == Approx(1.7455).epsilon(0.03));
  CHECK(kind(r, "work")["utilization"].get<double>() == Approx(0.8).epsilon(0.02));
  CHECK(kind(r, "work")["requeues"] == 0);
}

TEST_CASE("same seed, same result bit for bit, another seed, another result", "[sim]") {
  Scenario sc = test::scenario(kBroker);
  const auto a = without_wall_clock(test::simulate(sc));
  const auto b = without_wall_clock(test::simulate(sc));
  CHECK(a.dump() == b.dump());
  sc.seed = 2;
  CHECK(without_wall_clock(test::simulate(sc)).dump() != a.dump());
}

TEST_CASE("changing a pool size does not change the workload (common random numbers)", "[sim]") {
  const auto four = test::simulate(test::scenario(mm_c(4, 20000)));
  const auto five = test::simulate(test::scenario(mm_c(5, 20000)));
  // Same sessions, same service times: the same service statistics (the mean may differ in the
  // last bits only, because the sum is taken in a different order), different waits.
  CHECK(kind(four, "work")["service_s"]["p95"] == kind(five, "work")["service_s"]["p95"]);
  CHECK(kind(four, "work")["service_s"]["mean"].get<double>() ==
        Approx(kind(five, "work")["service_s"]["mean"].get<double>()).epsilon(1e-12));
  CHECK(kind(four, "work")["wait_s"]["mean"].get<double>() > kind(five, "work")["wait_s"]["mean"].get<double>());
}

TEST_CASE("activation order: no step starts before its predecessors complete", "[sim]") {
  for (const char* style : {"activate", "recheck"}) {
    INFO("dependencies: " << style);
    const Scenario sc = test::scenario(kBroker, {{"/dispatch/dependencies", style}});
    sim::SimOptions opt;
    opt.services = [](Clock& c, Capacity& k) { return std::make_unique<OrderChecker>(c, &k); };
    nlohmann::ordered_json r;
    REQUIRE_NOTHROW(r = test::simulate(sc, opt));
    CHECK(r["sessions"]["arrived"] == 1500);
    CHECK(r["sessions"]["started"].get<int>() + r["sessions"]["failed"].get<int>() == 1500);
    CHECK(r["sessions"]["started"].get<int>() > 1400);
  }
}

TEST_CASE("recheck costs requeues that activate does not", "[sim]") {
  const auto act = test::simulate(test::scenario(kBroker));
  const auto rec = test::simulate(test::scenario(kBroker, {{"/dispatch/dependencies", "recheck"}}));
  // activate: data and launch steps wait DORMANT; only data retries requeue.
  CHECK(kind(act, "launch")["requeues"] == 0);
  CHECK(kind(act, "data")["requeues"] == kind(act, "data")["retries"]);
  // recheck: launch is claimed and put back until everything before it is done.
  CHECK(kind(rec, "launch")["requeues"].get<int>() > 1500);
  CHECK(kind(rec, "data")["requeues"].get<int>() > kind(rec, "data")["retries"].get<int>());
  CHECK(rec["startup_s"]["mean"].get<double>() > act["startup_s"]["mean"].get<double>());
}

TEST_CASE("a step that always fails, 3 attempts: session fails after exactly 3 and the rest is cancelled", "[sim]") {
  const auto r = test::simulate(test::scenario(R"({
    "name": "fail", "sessions": 200, "arrivals": {"process": "poisson", "rate_per_s": 0.01},
    "kinds": {
      "flaky": {"threads": 4, "service_s": 1, "retry": {"max_attempts": 3, "failure_probability": 1, "backoff_s": 2}},
      "after": {"threads": 4, "service_s": 1},
      "slow": {"threads": 50, "service_s": 1000}
    },
    "templates": [{"name": "t", "steps": [
      {"id": "a", "kind": "flaky"}, {"id": "b", "kind": "after", "after": ["a"]}, {"id": "c", "kind": "slow"}]}]
  })"));
  CHECK(r["sessions"]["failed"] == 200);
  CHECK(r["sessions"]["started"] == 0);
  CHECK(kind(r, "flaky")["claims"] == 600);  // exactly 3 attempts each
  CHECK(kind(r, "flaky")["retries"] == 400);
  CHECK(kind(r, "flaky")["failed"] == 200);
  CHECK(kind(r, "after")["claims"] == 0);  // never activated
  CHECK(kind(r, "after")["cancelled"] == 200);
  CHECK(kind(r, "slow")["cancelled"] == 200);    // cancelled while RUNNING ...
  CHECK(kind(r, "slow")["lost_leases"] == 200);  // ... so its finish was fenced off
  CHECK(kind(r, "slow")["completed"] == 0);
  CHECK(r["failures"]["reasons"][0]["reason"].get<std::string>().find("after 3 attempts") != std::string::npos);
}

TEST_CASE("two concurrent transfers over one link take twice as long as one", "[sim]") {
  const std::string base = R"({
    "name": "xfer", "sessions": 1, "arrivals": {"process": "periodic", "rate_per_s": 1000000},
    "platform": {"hosts": ["a", "b"], "links": [{"name": "l", "from": "a", "to": "b", "bandwidth_MBps": 100}]},
    "kinds": {"copy": {"op": "data", "threads": 4, "service_s": 0, "transfer": {"from": "a", "to": "b"}}},
    "templates": [{"name": "t", "steps": [{"id": "c", "kind": "copy", "bytes": 1e9}]}]})";
  const auto one = test::simulate(test::scenario(base));
  const auto two = test::simulate(test::scenario(base, {{"/sessions", "2"}}));
  const double t1 = one["startup_s"]["max"], t2 = two["startup_s"]["max"];
  CHECK(t1 == Approx(10.0).epsilon(0.001));  // 1 GB at 100 MB/s
  CHECK(t2 / t1 == Approx(2.0).epsilon(0.001));
}

TEST_CASE("poll dispatch: an idle pool adds about half a poll interval to each wait", "[sim]") {
  const std::string s = R"({
    "name": "idle", "sessions": 4000, "arrivals": {"process": "poisson", "rate_per_s": 0.05},
    "dispatch": {"mode": "poll", "poll_interval_s": 1},
    "kinds": {"work": {"threads": 1, "service_s": 0.01}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})";
  const auto poll = test::simulate(test::scenario(s));
  const auto notify = test::simulate(test::scenario(s, {{"/dispatch/mode", "notify"}}));
  // Uniform(0, 1) residual of the poll cycle: mean 0.5, standard error 0.29/sqrt(4000) = 0.005.
  CHECK(kind(poll, "work")["wait_s"]["mean"].get<double>() == Approx(0.5).margin(0.025));
  CHECK(kind(poll, "work")["empty_polls"].get<double>() > 0.9 * poll["run"]["simulated_s"].get<double>());
  CHECK(kind(notify, "work")["wait_s"]["mean"].get<double>() < 0.001);
  // A notified thread's look after each step is not a poll: no empty_polls where nobody polls.
  CHECK_FALSE(kind(notify, "work").contains("empty_polls"));
  CHECK_FALSE(notify["pools"]["work"].contains("empty_polls"));
  CHECK(poll["pools"]["work"]["empty_polls"] == kind(poll, "work")["empty_polls"]);
}

// The claim query holds its thread claim_s before the step starts (and for an empty claim), but
// the simulator charges it inside the thread's next sleep (sim/world.hpp, settle()). The times
// below are those of a claim that takes claim_s and pops the queue at its end.
TEST_CASE("a claim holds its thread claim_s, an empty one too, and a step arriving during it is found", "[sim]") {
  auto lone = [](const std::string& mode, std::vector<double> times) {
    Scenario sc =
        test::scenario(R"({"name": "claims", "sessions": 2, "arrivals": {"process": "poisson", "rate_per_s": 1},
      "dispatch": {"mode": ")" +
                       mode + R"(", "poll_interval_s": 1, "claim_s": 0.25},
      "kinds": {"work": {"threads": 1, "service_s": 1}},
      "templates": [{"name": "t", "steps": [{"id": "w", "kind": "work"}]}]})");
    sc.arrivals.process = ArrivalSpec::Process::trace;
    sc.sessions = times.size();
    sc.arrivals.times = std::move(times);
    sim::SimOptions o;
    o.warmup = sim::Warmup{sim::Warmup::Method::none, 0};
    return test::simulate(sc, o);
  };
  // Notify: the empty claim at 0 runs to 0.25 and finds the step of 0.1 (start-up 1.15); the next
  // claim runs 1.25-1.5 (start-up 2.5 - 0.2).
  const auto notify = lone("notify", {0.1, 0.2});
  CHECK(notify["startup_s"]["mean"].get<double>() == Approx((1.15 + 2.3) / 2).epsilon(1e-9));
  CHECK(kind(notify, "work")["wait_s"]["mean"].get<double>() == Approx((0.15 + 1.3) / 2).epsilon(1e-9));
  // Poll: the empty claim 0-0.25, a poll interval, then a claim 1.25-1.5: start-up 2.5 - 0.3.
  const auto poll = lone("poll", {0.3});
  CHECK(poll["startup_s"]["mean"].get<double>() == Approx(2.2).epsilon(1e-9));
  CHECK(kind(poll, "work")["wait_s"]["mean"].get<double>() == Approx(1.2).epsilon(1e-9));
}

TEST_CASE("an exception inside an actor becomes a clean error", "[sim]") {
  struct Exploding : ModelServices {
    using ModelServices::ModelServices;
    OpResult work(const StepContext& c) override {
      if (c.ref.session == 5) throw std::runtime_error("storage backend exploded");
      return ModelServices::work(c);
    }
  };
  sim::SimOptions opt;
  opt.services = [](Clock& c, Capacity& k) { return std::make_unique<Exploding>(c, &k); };
  CHECK_THROWS_WITH(test::simulate(test::scenario(mm_c(4, 100)), opt),
                    Catch::Contains("worker") && Catch::Contains("storage backend exploded"));
}

TEST_CASE("replications: intervals, summed counts, unchanged settings, same output whatever --jobs", "[sim]") {
  const Scenario sc = test::scenario(mm_c(4, 20000));
  sim::ReplicationPlan plan;
  plan.replications = 4;
  plan.jobs = 1;
  auto one = sim::run_replications(sc, {}, plan);
  plan.jobs = 3;
  auto three = sim::run_replications(sc, {}, plan);
  CHECK(one["replications"] == 4);
  CHECK(kind(one, "work")["threads"] == 4);        // a setting, not a count
  CHECK(one["sessions"]["arrived"] == 4 * 20000);  // a count
  const auto& ci = one["startup_s"]["ci95"]["mean"];
  CHECK(ci[0].get<double>() < one["startup_s"]["mean"].get<double>());
  CHECK(one["startup_s"]["mean"].get<double>() < ci[1].get<double>());
  for (auto* r : {&one, &three}) {
    (*r)["run"].erase("wall_s");
    (*r)["run"].erase("steps_per_wall_s");
  }
  CHECK(one.dump() == three.dump());
}
