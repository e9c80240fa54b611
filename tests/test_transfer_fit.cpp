// Transfer costs from recorded transfers (core/transfer_fit.cpp): which moved alone, and the
// least-squares bandwidth and latency from those.
#include <catch2/catch.hpp>

#include "core/rng.hpp"
#include "core/transfer_fit.hpp"
#include "helpers.hpp"

using namespace stepq;

namespace {
// se1 → site over wan1 (100 MB/s, 50 ms); se2 → site over wan2 (20 MB/s, 100 ms) then wan1.
Scenario two_routes() {
  return test::scenario(R"({"name": "t", "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "platform": {"hosts": ["se1", "se2", "site"],
                 "links": [{"name": "wan1", "bandwidth_MBps": 100, "latency_s": 0.05},
                           {"name": "wan2", "bandwidth_MBps": 20, "latency_s": 0.1}],
                 "routes": [{"from": "se1", "to": "site", "links": ["wan1"]},
                            {"from": "se2", "to": "site", "links": ["wan2", "wan1"]}]},
    "kinds": {"d": {"op": "data", "threads": 1, "service_s": 0, "transfer": {"from": "se1", "to": "site"}}},
    "templates": [{"name": "t", "steps": [{"id": "d", "kind": "d", "bytes": 1e8}]}]})");
}
}  // namespace

TEST_CASE("transfer fit: a transfer is alone only if no other crossed one of its links meanwhile") {
  const Scenario sc = two_routes();
  // Route 0 is wan1; route 1 is wan2 + wan1.
  const std::vector<TransferObs> obs = {
      {0, 1e8, 0, 2},                      // overlaps #2 on wan1
      {1, 1e8, 10, 12},                    // alone
      {1, 1e8, 1, 3},                      // overlaps #0 on wan1
      {0, 1e8, 20, 30},                    // overlaps #4, which lies inside it
      {0, 1e8, 22, 23}, {0, 1e8, 30, 31},  // starts as #3 ends: not at once
  };
  const auto alone = moved_alone(sc.platform, obs);
  CHECK(alone == std::vector<bool>{false, true, false, false, false, true});
}

TEST_CASE("transfer fit: bandwidth and latency come back from lone transfers, and shared ones are left out") {
  const Scenario sc = two_routes();
  std::vector<TransferObs> obs;
  Stream rng(4);
  double t = 0;
  for (int i = 0; i < 200; ++i) {  // alone, one after another: latency + bytes / bottleneck
    const int route = i % 2;
    const double bytes = 1e7 + 4e8 * rng.uniform();
    const double dur = route == 0 ? 0.05 + bytes / 1e8 : 0.15 + bytes / 2e7;
    obs.push_back({route, bytes, t, t + dur * (1 + 0.002 * (rng.uniform() - 0.5))});
    t += dur + 1;
  }
  for (int i = 0; i < 100; ++i) {  // pairs at once on wan1, each at half speed: must not count
    const double bytes = 2e8;
    obs.push_back({0, bytes, t, t + 0.05 + 2 * bytes / 1e8});
    obs.push_back({0, bytes, t, t + 0.05 + 2 * bytes / 1e8});
    t += 10;
  }
  const auto fits = fit_link_costs(sc.platform, obs, moved_alone(sc.platform, obs), 30);
  REQUIRE(fits.size() == 2);
  for (const LinkCost& f : fits) {
    INFO("link " << f.link << " " << f.bandwidth_Bps << " B/s from " << f.samples);
    CHECK(f.samples == 100);
    CHECK(f.r2 > 0.999);
    REQUIRE(f.latency_s.size() == 1);
    if (f.link == 0) {
      CHECK(f.bandwidth_Bps == Approx(1e8).epsilon(0.005));
      CHECK(f.latency_s[0].first == 0);
      CHECK(f.latency_s[0].second == Approx(0.05).margin(0.01));
    } else {
      CHECK(f.bandwidth_Bps == Approx(2e7).epsilon(0.005));  // wan2 is route 1's bottleneck
      CHECK(f.latency_s[0].first == 1);
      CHECK(f.latency_s[0].second == Approx(0.15).margin(0.02));
    }
  }
  // One size only: no slope to fit.
  std::vector<TransferObs> same;
  for (int i = 0; i < 50; ++i) same.push_back({0, 1e8, i * 10.0, i * 10.0 + 1.05});
  CHECK(fit_link_costs(sc.platform, same, moved_alone(sc.platform, same), 30).empty());
}
