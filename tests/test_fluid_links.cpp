// The live emulated platform's network (core/fluid_links.hpp) against hand-worked timings and
// against what the simulator's SimGrid network gives for the same transfers.
#include <catch2/catch.hpp>

#include "core/fluid_links.hpp"
#include "tests/helpers.hpp"

using namespace stepq;
using Phase = FluidLinks::Phase;

namespace {

// Hosts a, b -> c. Link L (100 MB/s, shared) behind la (latency 0.5 s) or lb (latency `lb_s`);
// `cap` is L's max_active (0: none).
Scenario two_routes(double lb_s = 0.05, int cap = 0) {
  return test::scenario(R"({"name": "n", "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["a", "b", "c"],
      "links": [{"name": "L", "bandwidth_MBps": 100, "latency_s": 0)" +
                        (cap ? ", \"max_active\": " + std::to_string(cap) : std::string()) + R"(},
                {"name": "la", "bandwidth_MBps": 1e6, "latency_s": 0.5},
                {"name": "lb", "bandwidth_MBps": 1e6, "latency_s": )" +
                        std::to_string(lb_s) + R"(}],
      "routes": [{"from": "a", "to": "c", "links": ["la", "L"]}, {"from": "b", "to": "c", "links": ["lb", "L"]}]},
    "kinds": {"k": {"threads": 1, "service_s": 0}},
    "templates": [{"name": "t", "steps": [{"id": "s", "kind": "k"}]}]})");
}

int route(const Scenario& sc, const char* from) { return sc.platform.route_between(from, "c"); }

// Runs the network to `until` in steps of `dt`, writing it back and loading it again between
// steps as the stores do (only the unfinished transfers go back in). Returns every transfer.
std::vector<FluidLinks::Transfer> run(const Scenario& sc, double scale,
                                      const std::vector<std::tuple<int, double, double>>& adds,  // route, bytes, at
                                      double until, double dt, double origin = 0) {
  std::vector<FluidLinks::Transfer> done, open;
  double clock = origin;
  std::int64_t next = 1;
  bool added = false;
  for (double now = origin; now <= origin + until + 1e-12; now += dt) {
    FluidLinks n(sc.platform, scale, clock, open, next);
    n.advance(now);
    if (!added) {
      for (std::size_t i = 0; i < adds.size(); ++i) {
        const auto& [r, bytes, at] = adds[i];
        n.add(1, static_cast<int>(i), 0, r, bytes, origin + at);
      }
      added = true;
    }
    open.clear();
    for (const auto& x : n.transfers()) (x.phase == Phase::done ? done : open).push_back(x);
    clock = n.clock();
    next = 1000;
  }
  for (auto& x : open) done.push_back(x);
  std::sort(done.begin(), done.end(), [](auto& a, auto& b) { return a.step < b.step; });
  return done;
}

}  // namespace

TEST_CASE("fluid links: shares weighted by 1/latency as SimGrid's CM02 gives them") {
  // `stepq simulate` on this platform, both 100 MB moved at once, gives 2.05 s (via la) and
  // 1.105 s (via lb): lb's flow runs alone until 0.5 s, then gets 10/11 of L.
  const Scenario sc = two_routes();
  const auto t = run(sc, 1, {{route(sc, "a"), 1e8, 0}, {route(sc, "b"), 1e8, 0}}, 3, 0.01);
  REQUIRE(t.size() == 2);
  CHECK(t[0].phase == Phase::done);
  CHECK(t[0].at == Approx(2.05).epsilon(1e-6));
  CHECK(t[1].at == Approx(1.105).epsilon(1e-6));
  // Without latency on lb its penalty is 1, la's 0.5: la's flow gets 2/3 and both end at 2.0
  // (the simulator gives 2.0 and 2.0).
  const Scenario z = two_routes(0);
  const auto u = run(z, 1, {{route(z, "a"), 1e8, 0}, {route(z, "b"), 1e8, 0}}, 3, 0.37);
  CHECK(u[0].at == Approx(2.0).epsilon(1e-6));
  CHECK(u[1].at == Approx(2.0).epsilon(1e-6));
}

TEST_CASE("fluid links: the time scale stretches every time alike") {
  const Scenario sc = two_routes();
  const auto t = run(sc, 0.04, {{route(sc, "a"), 1e8, 0}, {route(sc, "b"), 1e8, 0}}, 0.2, 0.001);
  CHECK(t[0].at == Approx(2.05 * 0.04).epsilon(1e-6));
  CHECK(t[1].at == Approx(1.105 * 0.04).epsilon(1e-6));
}

TEST_CASE("fluid links: at wall-clock times (seconds since 1970) it still ends every transfer") {
  // Near 1.8e9 a double resolves 2.4e-7 s: an instant there is not within 1e-9 of itself plus a
  // finish time. The first version looped for ever on the last few bytes.
  const Scenario sc = two_routes();
  const double t0 = 1796118363.58322;
  const auto t = run(sc, 0.5, {{route(sc, "a"), 1e8, 0}, {route(sc, "b"), 1e8, 0}}, 2, 0.0137, t0);
  CHECK(t[0].phase == Phase::done);
  CHECK(t[0].at - t0 == Approx(2.05 * 0.5).epsilon(1e-5));
  CHECK(t[1].at - t0 == Approx(1.105 * 0.5).epsilon(1e-5));
}

TEST_CASE("fluid links: max_active 1 makes the second transfer wait for the first's slot") {
  const Scenario sc = two_routes(0, 1);
  const int b = route(sc, "b");
  const auto t = run(sc, 1, {{b, 1e8, 0}, {b, 1e8, 0.2}, {b, 5e7, 0.1}}, 5, 0.05);
  // First come, first served at L: 0 → 1 s, then the one that came at 0.1 (0.5 s of bytes),
  // then the one that came at 0.2.
  CHECK(t[0].at == Approx(1.0).epsilon(1e-6));
  CHECK(t[2].started_at == Approx(1.0).epsilon(1e-6));
  CHECK(t[2].at == Approx(1.5).epsilon(1e-6));
  CHECK(t[1].started_at == Approx(1.5).epsilon(1e-6));
  CHECK(t[1].at == Approx(2.5).epsilon(1e-6));
  CHECK(t[1].arrived_at == Approx(0.2).epsilon(1e-6));
}

TEST_CASE("fluid links: equal flows share a link equally, and a late one slows the others") {
  const Scenario sc = two_routes(0);
  const int b = route(sc, "b");
  FluidLinks n(sc.platform, 1, 0, {}, 1);
  n.add(1, 0, 0, b, 1e8, 0);
  n.add(1, 1, 0, b, 1e8, 0);
  n.add(1, 2, 0, b, 1e8, 0);
  for (double r : n.rates()) CHECK(r == Approx(1e8 / 3));
  REQUIRE(n.next_event());
  CHECK(*n.next_event() == Approx(3.0));
  n.advance(1.5);  // half done; one more arrives: each of four gets 25 MB/s
  n.add(1, 3, 0, b, 1e8, 1.5);
  CHECK(*n.next_event() == Approx(1.5 + 0.5e8 / 2.5e7));
  CHECK(n.moving(1, 0));
  n.advance(10);
  CHECK_FALSE(n.moving(1, 0));
  CHECK_FALSE(n.next_event());
  // The fourth: 4 × 25 MB/s until 3.5 s (50 MB), then alone at 100 MB/s: 0.5 s more.
  CHECK(n.transfers()[3].at == Approx(4.0));
}

TEST_CASE("fluid links: a delayed transfer reaches its links when due, and adding twice adds once") {
  const Scenario sc = two_routes(0);
  const int a = route(sc, "a");
  FluidLinks n(sc.platform, 1, 0, {}, 7);
  const auto id = n.add(5, 2, 1, a, 1e8, 3);
  CHECK(id == 7);
  CHECK(n.add(5, 2, 1, a, 1e8, 3) == 7);  // the same step and attempt: the transfer it started
  CHECK(n.transfers().size() == 1);
  CHECK(*n.next_event() == Approx(3));
  n.advance(3.2);
  CHECK(n.transfers()[0].phase == Phase::latency);  // la's 0.5 s
  n.advance(100);
  CHECK(n.transfers()[0].at == Approx(3 + 0.5 + 1));
  CHECK(n.add(5, 2, 2, a, 1e8, 0) == 8);  // a new attempt is a new transfer
}
