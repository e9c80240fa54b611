// The model check's test cases on either database (tests/model/test_model_check.cpp for SQLite,
// tests/pg/test_pg_model_check.cpp for PostgreSQL): a run of 10^4 operations from a seed, and the
// shrinker's own check on a planted error. STEPQ_MODEL_SEED picks another seed;
// bench/model_check.sh runs many.
#pragma once
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

#include "model/model_check.hpp"

namespace stepq::test::model {

inline std::uint64_t seed_from_env(std::uint64_t fallback) {
  const char* s = std::getenv("STEPQ_MODEL_SEED");
  return s && *s ? std::stoull(s) : fallback;
}

// 10^4 operations; on a difference, the shortest failing sequence found in 500 replays.
inline void check_seed(const Target& t, std::uint64_t seed, const std::string& db) {
  const int n = 10000;
  std::cout << "model check on " << db << ": seed " << seed << " (STEPQ_MODEL_SEED=" << seed << " repeats it), " << n
            << " operations" << std::endl;
  const auto ops = generate(seed, n, static_cast<bool>(t.restart));
  Coverage c;
  const auto f = run(t, ops, &c);
  if (!f) {
    // Not vacuous: every kind of event happened, the in-doubt ones both ways.
    std::cout << c.str() << std::endl;
    CHECK(c.completed >= 50);
    for (int o = 0; o < 4; ++o) CHECK(c.finished[o] >= 50);
    CHECK(c.lost_finishes >= 10);
    CHECK(c.cancelled >= 10);
    CHECK(c.reaped >= 20);
    CHECK(c.released >= 5);
    CHECK(c.in_doubt_committed >= 10);
    CHECK(c.in_doubt_not >= 10);
    CHECK(c.zombies >= 5);
    CHECK(c.restarts >= (t.restart ? 3 : 0));
    return;
  }
  const auto small = shrink(t, std::vector<Op>(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(f->op) + 1), 500);
  const auto again = run(t, small, nullptr, true);
  FAIL("seed " << seed << ": after operation " << f->op << " (" << ops[f->op].str() << "): " << f->what
               << "\nshrunk to " << small.size() << " operations:\n"
               << describe(small) << (again ? "which fail with: " + again->what : "which no longer fail (timing)"));
}

// The model wrongly counts a requeue as an attempt: the check must catch it, and ddmin must cut
// the sequence down to what shows it — a submit, a claim and a requeue of the claimed step.
inline void check_shrinking(Target t) {
  t.planted = true;
  const auto ops = generate(3, 400, false);
  const auto f = run(t, ops);
  REQUIRE(f);
  CHECK_THAT(f->what, Catch::Contains("attempt"));
  const auto small = shrink(t, ops, 300);
  INFO(describe(small));
  REQUIRE(small.size() == 3);
  CHECK(small[0].type == Op::Type::submit);
  CHECK(small[1].type == Op::Type::claim);
  CHECK((small[2].type == Op::Type::finish || small[2].type == Op::Type::kill_in_flight));
  REQUIRE(run(t, small, nullptr, true));
}

}  // namespace stepq::test::model
