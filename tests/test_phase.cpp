#include <catch2/catch.hpp>

#include <set>
#include <utility>

#include "core/phase.hpp"

using namespace stepq;
using P = Phase;

TEST_CASE("phase machine: exactly the transitions of DESIGN section 2 are legal") {
  // Written out by hand from DESIGN.md, independently of is_legal().
  const std::set<std::pair<P, P>> legal = {
      {P::DORMANT, P::READY},     {P::WAITING, P::READY},   {P::READY, P::RUNNING},    {P::RUNNING, P::COMPLETED},
      {P::RUNNING, P::FAILED},    {P::RUNNING, P::WAITING}, {P::RUNNING, P::READY},    {P::DORMANT, P::CANCELLED},
      {P::WAITING, P::CANCELLED}, {P::READY, P::CANCELLED}, {P::RUNNING, P::CANCELLED}};
  int accepted = 0, rejected = 0;
  for (P from : kAllPhases)
    for (P to : kAllPhases) {
      INFO(to_string(from) << " -> " << to_string(to));
      if (legal.count({from, to})) {
        CHECK(is_legal(from, to));
        CHECK(transition(from, to) == to);
        ++accepted;
      } else {
        CHECK_FALSE(is_legal(from, to));
        CHECK_THROWS_AS(transition(from, to), IllegalTransition);
        ++rejected;
      }
    }
  CHECK(accepted == 11);
  CHECK(rejected == 49 - 11);
}

TEST_CASE("phase names round-trip") {
  for (P p : kAllPhases) CHECK(phase_from_string(to_string(p)) == p);
  CHECK_FALSE(phase_from_string("ACTIVE").has_value());
}

TEST_CASE("terminal phases are exactly COMPLETED, FAILED, CANCELLED") {
  CHECK(is_terminal(P::COMPLETED));
  CHECK(is_terminal(P::FAILED));
  CHECK(is_terminal(P::CANCELLED));
  CHECK_FALSE(is_terminal(P::RUNNING));
  CHECK_FALSE(is_terminal(P::WAITING));
}
