// IntervalBins (core/interval_bins.hpp): `stepq live status`'s levels over time, from intervals in
// any order, in bounded memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "backends/live/store.hpp"
#include "core/interval_bins.hpp"

using namespace stepq;

namespace {

// ∫ level dt over the series' bins: each average times the time its bin covers.
double integral(const LevelSeries& t, const std::vector<double>& v, double origin_end_s) {
  double sum = 0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    const double next = k + 1 < t.t_s.size() ? t.t_s[k + 1] : origin_end_s;
    sum += v[k] * (next - t.t_s[k]);
  }
  return sum;
}

}  // namespace

TEST_CASE("interval bins: one interval is level 1 over its span and 0 outside, on whole bins") {
  IntervalBins b(1);
  b.add(0, IntervalBins::busy, 1000, 1010);
  b.add(0, IntervalBins::ready, 1000, 1000.5);  // and something before it, to set the origin
  const LevelSeries t = b.series(1000, 1030, 1);
  REQUIRE(t.t_s.size() >= 2);
  CHECK(t.t_s.front() == 0);
  CHECK(integral(t, t.busy[0], 30) == Approx(10));
  CHECK(integral(t, t.ready[0], 30) == Approx(0.5));
  for (std::size_t k = 0; k < t.t_s.size(); ++k) {
    const double from = t.t_s[k], to = k + 1 < t.t_s.size() ? t.t_s[k + 1] : 30;
    if (to <= 10) CHECK(t.busy[0][k] == Approx(1));
    if (from >= 10) CHECK(t.busy[0][k] == Approx(0));
  }
}

TEST_CASE("interval bins: any order gives the same bins, time is conserved, and bins stay bounded") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> start(1.7e9, 1.7e9 + 86400), len(0, 600);
  struct Iv {
    std::size_t s;
    IntervalBins::Level l;
    double from, to;
  };
  std::vector<Iv> iv;
  double total[2][2] = {};
  for (int i = 0; i < 100000; ++i) {
    const double a = start(rng), d = len(rng);
    const auto s = static_cast<std::size_t>(i % 2);
    const auto l = i % 3 ? IntervalBins::busy : IntervalBins::ready;
    iv.push_back({s, l, a, a + d});
    total[s][l] += d;
  }
  IntervalBins in_order(2), shuffled(2);
  std::vector<Iv> sorted = iv;
  std::sort(sorted.begin(), sorted.end(), [](const Iv& x, const Iv& y) { return x.from < y.from; });
  for (const auto& x : sorted) in_order.add(x.s, x.l, x.from, x.to);
  std::shuffle(iv.begin(), iv.end(), rng);
  for (const auto& x : iv) shuffled.add(x.s, x.l, x.from, x.to);
  const double t0 = shuffled.first(), end = shuffled.last();
  const LevelSeries a = in_order.series(t0, end, 1), b = shuffled.series(t0, end, 1);
  REQUIRE(a.t_s == b.t_s);
  CHECK(a.t_s.size() <= 2 * IntervalBins::kMaxBins);
  CHECK(a.t_s.size() >= IntervalBins::kMaxBins / 2);
  for (std::size_t s = 0; s < 2; ++s) {
    for (std::size_t k = 0; k < a.t_s.size(); ++k) {
      CHECK(a.busy[s][k] == Approx(b.busy[s][k]).epsilon(1e-9));
      CHECK(a.ready[s][k] == Approx(b.ready[s][k]).epsilon(1e-9));
    }
    CHECK(integral(b, b.busy[s], end - t0) == Approx(total[s][IntervalBins::busy]).epsilon(1e-9));
    CHECK(integral(b, b.ready[s], end - t0) == Approx(total[s][IntervalBins::ready]).epsilon(1e-9));
  }
}

TEST_CASE("live status: the chart over time comes from every execution in bounded memory, kinds remapped") {
  live::LiveStatus st;
  st.now = 2000;
  st.kinds.resize(3);
  st.kinds[0].name = "unused";
  st.kinds[1].name = "a";
  st.kinds[2].name = "b";
  st.kinds[1].steps[4] = 1;
  st.kinds[2].steps[3] = 1;
  double busy_a = 0;
  for (int i = 0; i < 200000; ++i) {  // 200,000 rows: the bins, not the rows, are kept
    const double r = 1000 + i * 0.004;
    live::add_execution(st, 1, r, r + 0.001, r + 0.003, "completed");
    busy_a += 0.002;
  }
  live::add_execution(st, 2, 1500, 1600, std::nullopt, "");   // still running: busy until now
  live::add_execution(st, 0, 1000, 1001, 1002, "completed");  // a kind with no steps left: dropped
  live::drop_unused_kinds(st);
  REQUIRE(st.kinds.size() == 2);
  const LevelSeries t = st.over_time.series(st.over_time.first(), st.over_time.last(), 1);
  CHECK(t.t_s.size() <= 2 * IntervalBins::kMaxBins);
  const double span = st.over_time.last() - st.over_time.first();
  CHECK(span == Approx(1000));
  CHECK(integral(t, t.busy[0], span) == Approx(busy_a).epsilon(1e-6));
  CHECK(integral(t, t.busy[1], span) == Approx(400).epsilon(1e-9));  // 1600 → now (2000)
  CHECK(integral(t, t.ready[1], span) == Approx(100).epsilon(1e-9));
}

// What `live status` does with its cache of sealed sessions: bins of part of the intervals,
// merged with bins of the rest, must be the bins of all of them (same width, same grid, same
// areas), however the intervals are split and whichever side spans more.
TEST_CASE("interval bins: merging the bins of two parts gives the bins of the whole") {
  std::mt19937_64 rng(11);
  for (const double spread : {10.0, 86400.0, 1e7}) {
    std::uniform_real_distribution<double> start(1.7e9, 1.7e9 + spread), len(0, spread / 100);
    IntervalBins whole(2), early(2), late(2);
    for (int i = 0; i < 20000; ++i) {
      const double a = start(rng), d = len(rng);
      const auto s = static_cast<std::size_t>(i % 2);
      const auto l = i % 3 ? IntervalBins::busy : IntervalBins::ready;
      whole.add(s, l, a, a + d);
      // Split in time: each part spans about half, so the union may need a wider width than
      // either.
      if (a < 1.7e9 + spread / 2) early.add(s, l, a, a + d);
      else late.add(s, l, a, a + d);
    }
    for (int order = 0; order < 2; ++order) {
      IntervalBins m = order ? early : late;
      m.merge(order ? late : early);
      const IntervalBins back = IntervalBins::from_parts(m.parts());  // and through its parts
      INFO("spread " << spread << " order " << order);
      REQUIRE(back.series_count() == 2);
      CHECK(back.first() == whole.first());
      CHECK(back.last() == whole.last());
      const double t0 = whole.first(), end = whole.last();
      const LevelSeries a = whole.series(t0, end, 1), b = back.series(t0, end, 1);
      REQUIRE(a.bin_s == b.bin_s);
      REQUIRE(a.t_s == b.t_s);
      for (std::size_t s = 0; s < 2; ++s)
        for (std::size_t k = 0; k < a.t_s.size(); ++k) {
          CHECK(a.busy[s][k] == Approx(b.busy[s][k]).epsilon(1e-12).margin(1e-12));
          CHECK(a.ready[s][k] == Approx(b.ready[s][k]).epsilon(1e-12).margin(1e-12));
        }
    }
  }
  IntervalBins empty, some(1);
  some.add(0, IntervalBins::busy, 5, 6);
  empty.merge(some);
  CHECK(empty.first() == 5);
  CHECK(empty.series_count() == 1);
  some.merge(IntervalBins(3));  // nothing to add, but three series now
  CHECK(some.series_count() == 3);
  CHECK(some.series(5, 6, 1).busy[0][0] == Approx(1));
}

TEST_CASE("interval bins: parts that cannot come from parts() are refused") {
  IntervalBins b(1);
  b.add(0, IntervalBins::busy, 100, 130);
  auto p = b.parts();
  REQUIRE_NOTHROW(IntervalBins::from_parts(p));
  auto bad = p;
  bad.w *= 3;  // not a power of two
  CHECK_THROWS_AS(IntervalBins::from_parts(bad), std::invalid_argument);
  bad = p;
  bad.area[0].pop_back();
  CHECK_THROWS_AS(IntervalBins::from_parts(bad), std::invalid_argument);
  bad = p;
  bad.hi += 1000;  // off the span of first..last
  CHECK_THROWS_AS(IntervalBins::from_parts(bad), std::invalid_argument);
}
