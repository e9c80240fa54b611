// Cluster admission and placement (core/cluster.hpp): first fit over nodes in order, fifo
// blocking against backfill, release, and the per-user limit — worked out by hand.
#include <catch2/catch.hpp>

#include "core/cluster.hpp"

using namespace stepq;

namespace {

ClusterSpec spec(std::vector<NodeGroup> nodes, ClusterSpec::Admission a = ClusterSpec::Admission::fifo, int limit = 0) {
  ClusterSpec c;
  c.name.assign(1, 'k');  // not = "k": GCC 12 warns falsely (-Wrestrict)
  c.nodes = std::move(nodes);
  c.admission = a;
  c.user_limit = limit;
  return c;
}

using P = std::vector<std::pair<std::uint64_t, int>>;  // (request, node), in the order placed
P placed(const std::vector<ClusterState::Placement>& v) {
  P out;
  for (const auto& p : v) out.emplace_back(p.id, p.node);
  return out;
}

}  // namespace

TEST_CASE("cluster: first fit places each request on the first node, in order, with the cores and memory free") {
  // Nodes: 0 = 8 cores/32 GB, 1 = 4 cores/64 GB, 2 = 16 cores/16 GB.
  const ClusterSpec s = spec({{1, 8, 32}, {1, 4, 64}, {1, 16, 16}});
  ClusterState c(s, 1);
  REQUIRE(c.nodes() == 3);
  const std::vector<ClusterState::Request> rs = {
      {1, 6, 8, 0},   // node 0 (8/32 → 2/24)
      {2, 4, 40, 0},  // not node 0 (2 cores left): node 1 (4/64 → 0/24)
      {3, 3, 8, 0},   // not 0 (2 cores), not 1 (0 cores): node 2 (16/16 → 13/8)
      {4, 2, 24, 0},  // node 0 exactly (2/24 → 0/0)
      {5, 1, 10, 0},  // 0 and 1 have no cores, node 2 has 8 GB: fits nowhere, waits
  };
  for (const auto& r : rs) CHECK(c.submit(r));
  CHECK(placed(c.admit()) == P{{1, 0}, {2, 1}, {3, 2}, {4, 0}});
  CHECK(c.queued() == 1);
  CHECK(c.free_cores(0) == Approx(0).margin(1e-12));
  CHECK(c.free_memory_GB(0) == Approx(0).margin(1e-12));
  CHECK(c.free_cores(1) == Approx(0).margin(1e-12));
  CHECK(c.free_memory_GB(1) == 24);
  CHECK(c.free_cores(2) == 13);
  CHECK(c.free_memory_GB(2) == 8);
  CHECK(c.used_cores() == 15);
  CHECK(c.used_memory_GB() == 80);
  // Request 2 ends: node 1 has 4 cores/64 GB again, and request 5 goes there.
  CHECK(c.release(2) == ClusterState::Released::placed);
  CHECK(placed(c.admit()) == P{{5, 1}});
  CHECK(c.queued() == 0);
  CHECK(c.free_memory_GB(1) == 54);
}

TEST_CASE("cluster: fifo lets a request that fits nowhere block those behind it, backfill does not") {
  const std::vector<ClusterState::Request> rs = {{1, 3, 1, 0}, {2, 2, 1, 0}, {3, 1, 1, 0}};
  for (auto policy : {ClusterSpec::Admission::fifo, ClusterSpec::Admission::backfill}) {
    const ClusterSpec s = spec({{1, 4, 100}}, policy);
    ClusterState c(s, 1);
    for (const auto& r : rs) c.submit(r);
    const P first = placed(c.admit());
    if (policy == ClusterSpec::Admission::fifo) {
      CHECK(first == P{{1, 0}});  // 2 needs 2 cores, 1 is free: it waits, and so does 3
      CHECK(c.queued() == 2);
      CHECK(c.release(1) == ClusterState::Released::placed);
      CHECK(placed(c.admit()) == P{{2, 0}, {3, 0}});
    } else {
      CHECK(first == P{{1, 0}, {3, 0}});  // 3 goes past 2
      CHECK(c.queued() == 1);
      CHECK(c.release(1) == ClusterState::Released::placed);
      CHECK(placed(c.admit()) == P{{2, 0}});
    }
  }
}

TEST_CASE("cluster: release takes a queued request out, and ignores one it does not hold") {
  const ClusterSpec s = spec({{2, 1, 1}});
  ClusterState c(s, 1);
  for (std::uint64_t id = 1; id <= 3; ++id) c.submit({id, 1, 1, 0});
  CHECK(placed(c.admit()) == P{{1, 0}, {2, 1}});
  CHECK(c.release(3) == ClusterState::Released::queued);
  CHECK(c.queued() == 0);
  CHECK(c.release(3) == ClusterState::Released::unknown);
  CHECK(c.release(99) == ClusterState::Released::unknown);
  CHECK(c.release(2) == ClusterState::Released::placed);
  CHECK(c.release(2) == ClusterState::Released::unknown);  // idempotent
  CHECK(c.used_cores() == 1);
}

TEST_CASE("cluster: a user holds at most user_limit requests, queued or placed") {
  const ClusterSpec s = spec({{1, 1, 1}}, ClusterSpec::Admission::fifo, 2);
  ClusterState c(s, 3);
  CHECK(c.submit({1, 1, 1, 0}));
  CHECK(c.submit({2, 1, 1, 0}));        // queued: still held
  CHECK_FALSE(c.submit({3, 1, 1, 0}));  // a third is refused
  CHECK(c.submit({4, 1, 1, 1}));        // another user is not
  CHECK(c.held_by(0) == 2);
  CHECK(placed(c.admit()) == P{{1, 0}});
  CHECK(c.release(2) == ClusterState::Released::queued);
  CHECK(c.held_by(0) == 1);
  CHECK(c.submit({5, 1, 1, 0}));
  CHECK(c.release(1) == ClusterState::Released::placed);
  CHECK(placed(c.admit()) == P{{4, 0}});  // user 1's was next in line
  CHECK(c.held_by(0) == 1);
  CHECK(c.held_by(1) == 1);
}
