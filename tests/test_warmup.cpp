// Warm-up removal (core/warmup.hpp) on queues computed here by Lindley's recursion, not by the
// simulator: W₀ given, W_{k+1} = max(0, W_k + S_k − A_{k+1}), sojourn = W + S.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "core/rng.hpp"
#include "core/warmup.hpp"

using namespace stepq;

namespace {

// Sojourn times of n customers of an M/M/1 queue (mean service 1) at utilisation rho, the first
// finding `backlog` seconds of work ahead of it.
std::vector<double> mm1_sojourns(std::uint64_t seed, std::size_t n, double rho, double backlog = 0) {
  Stream r(seed);
  std::vector<double> y(n);
  double w = backlog;
  for (std::size_t k = 0; k < n; ++k) {
    const double s = -std::log(r.uniform());
    y[k] = w + s;
    w = std::max(0.0, w + s + std::log(r.uniform()) / rho);
  }
  return y;
}

double mean_from(const std::vector<double>& y, std::size_t from) {
  return std::accumulate(y.begin() + static_cast<long>(from), y.end(), 0.0) / static_cast<double>(y.size() - from);
}

}  // namespace

TEST_CASE("warm-up: a stationary heavy-traffic queue keeps its start, where MSER-5 alone cuts and lowers the mean") {
  // 40 runs of 50,000 customers at rho = 0.9 that start empty: their true transient is a few
  // hundred customers, so an empty start biases the mean low, if anything.
  int mser_cuts = 0, checked_cuts = 0;
  double mser_shift = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const auto y = mm1_sojourns(seed, 50000, 0.9);
    const double all = mean_from(y, 0);
    const Mser5 m = mser5(y);
    mser_cuts += m.drop > 0;
    mser_shift += mean_from(y, m.drop) / all - 1;
    const WarmupCut c = checked_mser5(y);
    checked_cuts += c.drop > 0;
    if (c.drop == 0) CHECK(c.reason == WarmupCut::Reason::none);
  }
  INFO("MSER-5 cut " << mser_cuts << " of 40 runs, mean shift " << 100 * mser_shift / 40 << "%; checked cut "
                     << checked_cuts);
  CHECK(mser_cuts >= 8);            // the defect: early high excursions are cut …
  CHECK(mser_shift / 40 < -0.005);  // … and that pulls the mean down
  CHECK(checked_cuts <= 1);
}

TEST_CASE("warm-up: a backlog at the start is removed, and the kept mean is the steady state's") {
  // rho = 0.8 (mean sojourn 1/(1 − 0.8) = 5 s); the first customer finds 2,000 s of work, which
  // drains at 1 − 0.8 s per s: 10,000 s, while ~8,000 customers arrive.
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto y = mm1_sojourns(seed, 60000, 0.8, 2000);
    const WarmupCut c = checked_mser5(y);
    INFO("seed " << seed << ": dropped " << c.drop << ", contrast " << c.contrast);
    CHECK(c.reason == WarmupCut::Reason::transient);
    CHECK(c.contrast > 10 * kContrast);
    CHECK(c.drop >= 6000);
    CHECK(c.drop <= 12000);
    CHECK(mean_from(y, c.drop) == Approx(5.0).epsilon(0.1));
    CHECK(mean_from(y, 0) > 30);
  }
}

TEST_CASE("warm-up: a transient longer than half the run is cut at half, and says so") {
  // 8,000 s of work drains over ~32,000 of 60,000 customers.
  const auto y = mm1_sojourns(3, 60000, 0.8, 8000);
  const WarmupCut c = checked_mser5(y);
  CHECK(c.reason == WarmupCut::Reason::cap);
  CHECK(c.drop == 30000);
  const Mser5 m = mser5(y);
  CHECK(m.capped);
  CHECK(m.drop == 30000);
}

TEST_CASE("warm-up: a queue that never settles drops nothing and says it found no steady part") {
  // rho = 1.2: the backlog grows all run long; MSER-5 still cuts half of it.
  const auto y = mm1_sojourns(4, 20000, 1.2);
  CHECK(mser5(y).capped);
  const WarmupCut c = checked_mser5(y);
  CHECK(c.reason == WarmupCut::Reason::unsteady);
  CHECK(c.drop == 0);
  CHECK(c.contrast <= kContrast);
}

TEST_CASE("warm-up: short, constant and empty series drop nothing") {
  CHECK(checked_mser5({}).drop == 0);
  CHECK(checked_mser5({5, 1, 1, 1, 1, 1, 1, 1, 1, 1}).drop == 0);  // too short for 99 stretches
  CHECK(checked_mser5(std::vector<double>(10000, 2.5)).drop == 0);
  CHECK(mser5(std::vector<double>(10000, 2.5)).drop == 0);  // ties go to the smaller cut
  CHECK(reason_name(WarmupCut::Reason::cap) == "cap");
  CHECK(reason_name(WarmupCut::Reason::unsteady) == "unsteady");
}

TEST_CASE("warm-up: a constant run after a high start is cut with an infinite contrast") {
  std::vector<double> y(20000, 1.0);
  for (int i = 0; i < 1000; ++i) y[i] = 50;
  const WarmupCut c = checked_mser5(y);
  CHECK(c.reason == WarmupCut::Reason::transient);
  CHECK(c.drop == 1000);
  CHECK(std::isinf(c.contrast));
}
