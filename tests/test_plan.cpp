#include <catch2/catch.hpp>

#include <algorithm>

#include "helpers.hpp"

using namespace stepq;

namespace {
// The broker's layout: executable, 2 storages, 3 data (2 in the first storage, 1 in the second),
// compute after all of them. Constant costs so the broker formula can be computed by hand.
const char* kBrokerLayout = R"({
  "name": "layout", "sessions": 1, "arrivals": {"process": "periodic", "rate_per_s": 1},
  "kinds": {
    "exe": {"threads": 1, "service_s": 1},
    "sto": {"threads": 1, "service_s": 1},
    "dat": {"threads": 1, "service_s": 1},
    "cmp": {"threads": 1, "service_s": 7}
  },
  "templates": [{"name": "t", "steps": [
    {"id": "exe", "kind": "exe", "service_s": 40},
    {"id": "s1", "kind": "sto", "service_s": 3},
    {"id": "s2", "kind": "sto", "service_s": 12},
    {"id": "d11", "kind": "dat", "after": ["s1"], "service_s": 20},
    {"id": "d12", "kind": "dat", "after": ["s1"], "service_s": 35},
    {"id": "d21", "kind": "dat", "after": ["s2"], "service_s": 30},
    {"id": "cmp", "kind": "cmp", "after": ["exe", "s1", "s2", "d11", "d12", "d21"]}
  ]}]
})";
}  // namespace

TEST_CASE("total_prepare_cost equals the broker's formula on 2 storages and 3 data resources") {
  const Scenario sc = test::scenario(kBrokerLayout);
  // max(executable, max over storage(storage + slowest data in it)) + compute
  const double formula = std::max(40.0, std::max(3.0 + std::max(20.0, 35.0), 12.0 + 30.0)) + 7.0;
  CHECK(formula == 49.0);
  CHECK(sc.templates[0].total_prepare_cost_s == formula);

  // Make the executable the slowest branch: the formula and the critical path move together.
  const Scenario slow_exe = test::scenario(kBrokerLayout, {{"/templates/0/steps/0/service_s", "90"}});
  CHECK(slow_exe.templates[0].total_prepare_cost_s == 97.0);
}

TEST_CASE("plan: roots, predecessors and a topological order") {
  const Scenario sc = test::scenario(kBrokerLayout);
  const Plan& p = sc.templates[0].plan;
  CHECK(p.roots == std::vector<int>{0, 1, 2});
  CHECK(p.preds[6].size() == 6);
  std::vector<int> pos(p.size());
  for (std::size_t i = 0; i < p.topo.size(); ++i) pos[p.topo[i]] = static_cast<int>(i);
  for (std::size_t s = 0; s < p.size(); ++s)
    for (int q : p.preds[s]) CHECK(pos[q] < pos[s]);
}

TEST_CASE("plan: a cycle is rejected") {
  std::vector<PlanStep> steps(3);
  const char* ids[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) steps[i].id = ids[i], steps[i].kind = 0, steps[i].after = {(i + 2) % 3};
  CHECK_THROWS_AS(Plan::build(steps), std::invalid_argument);
}
