// The scenario of the fault-injection tests on either database (tests/live/test_sqlite_faults.cpp,
// tests/pg/test_pg_faults.cpp): x and y in pool front, then z (pool back) after both.
#pragma once

namespace stepq::test::faults {

inline constexpr const char* kScenario = R"({"name": "faults", "seed": 1, "sessions": 10,
  "arrivals": {"process": "poisson", "rate_per_s": 1},
  "pools": {"front": {"threads": 1, "kinds": ["a", "b"]}, "back": {"threads": 1, "kinds": ["c"]}},
  "kinds": {"a": {"service_s": 1, "retry": {"max_attempts": 3, "backoff_s": 10}},
            "b": {"service_s": 1}, "c": {"service_s": 1}},
  "templates": [{"name": "t", "steps": [
    {"id": "x", "kind": "a"}, {"id": "y", "kind": "b"}, {"id": "z", "kind": "c", "after": ["x", "y"]}]}]})";
inline constexpr int kFront = 0, kBack = 1, X = 0;

}  // namespace stepq::test::faults
