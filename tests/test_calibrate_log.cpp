// What calibrate keeps of a streamed log (cli/calibrate_log.cpp): threads from the processors,
// a bounded uniform sample of service times, and a restart that forgets.
#include <catch2/catch.hpp>

#include "cli/calibrate_log.hpp"
#include "helpers.hpp"

using namespace stepq;

TEST_CASE("calibrate log: threads are the pools' thread-seconds over the time any processor ran") {
  // A: a=2 over 0-10; B: a=4, b=1 over 5-20; the union is 0-20. C never ran.
  const std::vector<live::History::Processor> ps = {{"a=2", 100, 110}, {"a=4,b=1", 105, 120}, {"a=9", 130, 130}};
  const auto m = mean_threads(ps);
  CHECK(m.at("a") == Approx((2 * 10 + 4 * 15) / 20.0));
  CHECK(m.at("b") == Approx(15 / 20.0));
  // A gap between lives is not time the queue had threads.
  const auto gap = mean_threads({{"a=3", 0, 10}, {"a=3", 50, 60}});
  CHECK(gap.at("a") == Approx(3));
  CHECK(mean_threads({}).empty());
}

TEST_CASE("calibrate log: the service sample is bounded and uniform, failures counted per attempt") {
  const Scenario sc =
      test::scenario(R"({"name": "c", "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1},
    "kinds": {"w": {"threads": 1, "service_s": {"dist": "constant", "value": 1}}},
    "templates": [{"name": "t", "steps": [{"id": "w", "kind": "w"}]}]})");
  KindLogs logs(sc, 0.5);
  live::History::Execution e;
  e.kind = "w";
  const std::size_t n = KindLogs::kMaxSamples * 3;
  for (std::size_t i = 0; i < n; ++i) {
    e.started_at = 0;
    e.ended_at = static_cast<double>(i % 1000) * 0.5;  // 0..999 scenario seconds after the scale
    e.outcome = i % 10 == 0 ? "retry" : "completed";
    logs.execution(e);
  }
  const KindLog& k = logs.kinds.at("w");
  CHECK(k.executions == n);
  CHECK(k.service.size() == KindLogs::kMaxSamples);
  CHECK(k.ran == n - n / 1000);  // the zero durations are no samples
  double mean = 0;
  for (double x : k.service) mean += x;
  mean /= static_cast<double>(k.service.size());
  CHECK(mean == Approx(500).epsilon(0.01));  // uniform on 1..999: a biased reservoir would drift
  CHECK(k.attempts == n);
  CHECK(k.failures == n / 10);
  logs.restart();
  CHECK(logs.kinds.empty());
}

TEST_CASE("calibrate log: a processor's pools are read as registered, odd parts skipped") {
  using P = std::vector<std::pair<std::string, int>>;
  CHECK(live::pool_threads("fetch=8,build=2") == P{{"fetch", 8}, {"build", 2}});
  CHECK(live::pool_threads("a=2,b=x,=4,c=,d=3") == P{{"a", 2}, {"d", 3}});
  CHECK(live::pool_threads("").empty());
}
