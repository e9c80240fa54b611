// A session's life beyond start-up, in the simulator: what it asks of a cluster, how long it runs,
// its release steps, volume mounts and storage quotas (issue 14).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/scenario.hpp"
#include "tests/helpers.hpp"

using namespace stepq;
using nlohmann::ordered_json;

namespace {

// One data item of 1 GB over a 100 MB/s link (10 s), mounted `mount`, in a storage item.
std::string staged(const std::string& mount, const std::string& extra_template = "", const std::string& release = "") {
  return R"({"name": "m", "seed": 4, "sessions": 200, "arrivals": {"process": "periodic", "rate_per_s": 0.01},
    "platform": {"hosts": ["rse", "site", "wan"],
                 "links": [{"name": "l", "from": "rse", "to": "site", "bandwidth_MBps": 100},
                           {"name": "w", "from": "site", "to": "wan", "bandwidth_MBps": 50}]},
    "kinds": {"storage": {"op": "storage", "threads": 1, "service_s": 1},
              "data": {"op": "data", "threads": 4, "service_s": 2, "transfer": {"from": "rse", "to": "site"}},
              "push": {"op": "pushback", "threads": 1, "service_s": 1, "transfer": {"from": "site", "to": "wan"}}},
    "templates": [{"name": "t", )" +
         extra_template + R"("steps": [{"id": "s", "kind": "storage"},
      {"id": "d", "kind": "data", "after": ["s"], "bytes": 1e9, "mount": ")" +
         mount + R"("}])" + release + "}]}";
}

const ordered_json& kind(const ordered_json& r, const char* k) { return r["kinds"][k]; }

}  // namespace

TEST_CASE("mounts: a ReadOnly data item is linked, not copied: no transfer in the estimate or the run", "[sim]") {
  const Scenario ro = test::scenario(staged("ReadOnly")), copy = test::scenario(staged("WriteTemp"));
  // The broker's estimate: storage 1 s + data 2 s, plus 1e9 B / 100 MB/s = 10 s for a copy.
  CHECK(ro.templates[0].total_prepare_cost_s == Approx(3));
  CHECK(copy.templates[0].total_prepare_cost_s == Approx(13));
  CHECK(ro.prepare_cost(ro.templates[0].steps[1]) == Approx(2));
  // One session at a time (every 100 s): start-up is exactly the estimate.
  const auto a = test::simulate(ro), b = test::simulate(copy);
  CHECK(a["startup_s"]["mean"].get<double>() == Approx(3).epsilon(1e-6));
  CHECK(b["startup_s"]["mean"].get<double>() == Approx(13).epsilon(1e-6));
  CHECK(kind(a, "data")["service_s"]["mean"].get<double>() == Approx(2).epsilon(1e-6));
  CHECK(kind(b, "data")["service_s"]["mean"].get<double>() == Approx(12).epsilon(1e-6));
}

TEST_CASE("mounts: WriteGlobal output is pushed back at release over the pushback kind's link", "[sim]") {
  std::string json =
      staged("WriteGlobal", R"("session": {"run_s": 30}, )", R"(, "release": [{"id": "p", "kind": "push"}])");
  json.replace(json.find(R"("mount": "WriteGlobal")"), 22, R"("mount": "WriteGlobal", "output_bytes": 2e9)");
  const Scenario sc = test::scenario(json);
  CHECK(sc.templates[0].output_bytes == 2e9);
  CHECK(sc.templates[0].steps[2].bytes == 2e9);               // the pushback moves the output
  CHECK(sc.templates[0].total_prepare_cost_s == Approx(13));  // release is not start-up
  const auto r = test::simulate(sc);
  // 1 s of service + 2e9 B / 50 MB/s = 40 s, after each session's 30 s run.
  CHECK(kind(r, "push")["completed"] == 200);
  CHECK(kind(r, "push")["service_s"]["mean"].get<double>() == Approx(41).epsilon(1e-6));
  CHECK(r["sessions"]["completed"] == 200);
  CHECK(r["startup_s"]["mean"].get<double>() == Approx(13).epsilon(1e-6));
}

TEST_CASE("storage quotas: WriteTemp space comes back at cleanup, and a full area fails or waits, as set", "[sim]") {
  // Sessions every 10 s reserve 4 GB each in a 10 GB area and run 25 s: about three at a time
  // want space where two fit.
  auto scenario = [](const std::string& when_full, bool cleanup) {
    return R"({"name": "q", "seed": 9, "sessions": 300, "arrivals": {"process": "periodic", "rate_per_s": 0.1},
      "platform": {"storage": {"cavern": {"quota_bytes": 10e9, "when_full": ")" +
           when_full + R"("}}},
      "kinds": {"storage": {"op": "storage", "threads": 2, "service_s": 1},
                "clean": {"op": "cleanup", "threads": 2, "service_s": 1},
                "work": {"threads": 4, "service_s": 0}},
      "templates": [{"name": "t", "session": {"run_s": 25},
        "steps": [{"id": "s", "kind": "storage", "area": "cavern", "bytes": 4e9, "mount": ")" +
           (cleanup ? "WriteTemp" : "WriteLocal") + R"("}],
        "release": [{"id": "c", "kind": ")" +
           (cleanup ? "clean" : "work") + R"("}]}]})";
  };
  const auto fails = test::simulate(test::scenario(scenario("fail", true)));
  const auto waits = test::simulate(test::scenario(scenario("wait", true)));
  const auto kept = test::simulate(test::scenario(scenario("wait", false)));
  INFO(fails["failures"].dump());
  CHECK(fails["sessions"]["failed"].get<int>() > 50);
  CHECK(fails["failures"]["reasons"][0]["reason"].get<std::string>().find("storage area 'cavern' is full") !=
        std::string::npos);
  // Waiting: every session starts, later; the storage step went back to WAITING meanwhile.
  CHECK(waits["sessions"]["started"] == 300);
  CHECK(kind(waits, "storage")["requeues"].get<int>() > 50);
  CHECK(waits["startup_s"]["max"].get<double>() > 10);
  // WriteLocal space is kept: after two sessions the area is full for good; the others wait
  // max_wait_s (an hour) and fail.
  CHECK(kept["sessions"]["started"] == 2);
  CHECK(kept["sessions"]["failed"] == 298);
  CHECK(kept["failures"]["reasons"][0]["reason"].get<std::string>().find("still full after max_wait_s (3600 s)") !=
        std::string::npos);
}

namespace {
// One node of `cores` one-core slots; sessions every 2 s run 5 s once Running (ready 1 s after
// admission, polled every 0.5 s); the delete step's pool and service are given.
std::string one_node(int cores, int delete_threads, double delete_s, const std::string& more_kinds = "") {
  return R"({"name": "c", "seed": 2, "sessions": 4000, "arrivals": {"process": "poisson", "rate_per_s": 0.5},
    "platform": {"clusters": {"k": {"nodes": [{"count": 1, "cores": )" +
         std::to_string(cores) + R"(, "memory_GB": 64}]}}},
    "kinds": {"launch": {"op": "launch", "threads": 4, "service_s": 0.2},
              "poll": {"op": "poll", "threads": 4, "service_s": 0.05, "poll": {"interval_s": 0.5, "ready_after_s": 1}},
              "delete": {"op": "delete", "threads": )" +
         std::to_string(delete_threads) + R"(, "service_s": )" + std::to_string(delete_s) + "}" + more_kinds + R"(},
    "templates": [{"name": "t", "session": {"cluster": "k", "cores": 1, "memory_GB": 2, "run_s": 5},
      "steps": [{"id": "l", "kind": "launch"}, {"id": "p", "kind": "poll", "after": ["l"]}],
      "release": [{"id": "d", "kind": "delete"}]}]})";
}
}  // namespace

TEST_CASE("clusters: a session holds its cores from admission until its delete step completes", "[sim]") {
  const auto r = test::simulate(test::scenario(one_node(8, 4, 0.3)));
  const auto& k = r["clusters"]["k"];
  CHECK(k["admitted"] == 4000);
  CHECK(r["sessions"]["completed"] == 4000);
  // Held: 1 s to Running + 5 s run + the delete (0.3 s, rarely queued): 6.3 s at 0.5/s on 8 cores.
  const double held = 0.5 * 6.3 / 8;
  CHECK(k["utilization"]["cores"].get<double>() == Approx(held).epsilon(0.03));
  CHECK(k["utilization"]["memory"].get<double>() == Approx(held * 2 / 64 * 8).epsilon(0.03));
  // Start-up, when a slot is free: the launch (0.2 s) submits at 0.2; polls (0.05 s, every
  // 0.55 s) at 0.2, 0.75 and 1.3 see it Running (ready 1 s after admission) at the third: 1.35 s,
  // of which service 0.2 + 3 x 0.05 and 1.0 s waiting between polls.
  const auto& split = r["startup_s"]["split"];
  const double sum = split["pending"].get<double>() + split["queue_wait"].get<double>() +
                     split["service"].get<double>() + split["other"].get<double>();
  CHECK(sum == Approx(r["startup_s"]["mean"].get<double>()).epsilon(1e-9));
  CHECK(r["startup_s"]["p50"].get<double>() == Approx(1.35).epsilon(0.001));
  CHECK(split["service"].get<double>() == Approx(0.35).epsilon(0.01));
  CHECK(split["other"].get<double>() == Approx(1.0).epsilon(0.02));
}

TEST_CASE("clusters: a starved release pool holds capacity, and sessions wait Pending for it", "[sim]") {
  // 4 slots: with a quick delete they are held ~6.3 s (utilisation 0.79); with one delete
  // thread taking 1.5 s (utilisation 0.75 of its own) each is held ~1.5 s longer plus its queue.
  const auto quick = test::simulate(test::scenario(one_node(4, 4, 0.3)));
  const auto slow = test::simulate(test::scenario(one_node(4, 1, 1.5)));
  const double p_quick = quick["clusters"]["k"]["pending_s"]["mean"],
               p_slow = slow["clusters"]["k"]["pending_s"]["mean"];
  INFO("pending mean: quick delete " << p_quick << " s, starved delete " << p_slow << " s");
  CHECK(p_slow > 2 * p_quick);
  CHECK(slow["clusters"]["k"]["utilization"]["cores"].get<double>() >
        quick["clusters"]["k"]["utilization"]["cores"].get<double>() + 0.1);
  CHECK(slow["startup_s"]["split"]["pending"].get<double>() == Approx(p_slow).epsilon(1e-9));
}

TEST_CASE("clusters: a failed session runs its release steps and gives its cores back", "[sim]") {
  // Every poll fails: sessions fail while admitted (or Pending); the delete frees the slot.
  std::string json = one_node(2, 2, 0.1);
  json.replace(json.find(R"("service_s": 0.05,)"), 18, R"("service_s": 0.05, "retry": {"failure_probability": 1},)");
  const auto r = test::simulate(test::scenario(json));
  CHECK(r["sessions"]["failed"] == 4000);
  CHECK(r["sessions"]["completed"] == 0);  // completed = started and released
  CHECK(r["kinds"]["delete"]["completed"] == 4000);
  CHECK(r["clusters"]["k"]["submitted"] == 4000);
  CHECK(r["clusters"]["k"]["admitted"] == 4000);  // nothing stayed held: every one got a slot
}

TEST_CASE("users: session owners follow the Zipf popularity, and the per-user limit refuses launches", "[sim]") {
  SECTION("popularity") {
    const Scenario sc = test::scenario(R"({"sessions": 10, "arrivals": {"process": "poisson", "rate_per_s": 1,
      "users": {"count": 50, "popularity": {"zipf": 1.2}}},
      "kinds": {"w": {"threads": 1, "service_s": 1}}, "templates": [{"name": "t", "steps": [{"id": "w", "kind": "w"}]}]})");
    double h = 0;
    for (int k = 1; k <= 50; ++k) h += std::pow(k, -1.2);
    std::vector<int> n(50, 0);
    const int draws = 200000;
    for (int i = 0; i < draws; ++i) n[sc.arrivals.users->user_of(sc.seed, i)]++;
    for (int k : {1, 2, 10, 50}) {
      const double p = std::pow(k, -1.2) / h;
      INFO("rank " << k);
      CHECK(n[k - 1] / double(draws) == Approx(p).margin(4 * std::sqrt(p * (1 - p) / draws)));
    }
  }
  SECTION("limit") {
    // One user, two sessions at most, one arriving every 2 s that holds its slot ~6.3 s.
    std::string json = one_node(64, 4, 0.3);
    json.replace(json.find(R"("rate_per_s": 0.5})"), 18, R"("rate_per_s": 0.5, "users": {"count": 1}})");
    json.replace(json.find(R"("memory_GB": 64}]})"), 18, R"("memory_GB": 64}], "user_limit": 2})");
    const auto r = test::simulate(test::scenario(json));
    const auto& k = r["clusters"]["k"];
    CHECK(k["refused"].get<int>() > 1000);
    CHECK(k["refused"].get<int>() + k["submitted"].get<int>() == 4000);
    CHECK(r["sessions"]["failed"] == k["refused"]);
    CHECK(r["failures"]["reasons"][0]["reason"].get<std::string>().find("user_limit") != std::string::npos);
    CHECK(k["pending_s"]["max"].get<double>() == 0);  // capacity never bound
  }
}
