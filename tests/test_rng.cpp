// Random streams (core/rng.hpp): each a pure function of its key.
#include <catch2/catch.hpp>

#include <vector>

#include "core/rng.hpp"

using namespace stepq;

TEST_CASE("streams are pure functions of their key: order of use does not matter") {
  const auto k = session_key(1, 17);
  Stream a = step_stream(k, 2, 1), b = step_stream(k, 2, 1), c = step_stream(k, 2, 2);
  const double a1 = a.uniform();
  CHECK(a1 == b.uniform());
  CHECK(a1 != c.uniform());
  CHECK(session_key(1, 17) != session_key(2, 17));
}
