#include "live_links.hpp"

#include <chrono>
#include <set>
#include <stdexcept>

#include "core/fluid_links.hpp"

namespace stepq::live {

namespace {
constexpr double kLookEvery_s = 0.05;  // while anything moves: see what other processes started
constexpr double kIdle_s = 1;          // nothing moves: this process starts the next transfer itself
}  // namespace

LiveLinks::LiveLinks(LiveStore& store, double time_scale) : store_(store), scale_(time_scale) {
  thread_ = std::thread([this] { ticker(); });
}

LiveLinks::~LiveLinks() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  done_.notify_all();
  thread_.join();
}

void LiveLinks::transfer(const StepContext& c, int route, double bytes) {
  const Key key{static_cast<std::int64_t>(c.ref.session), c.ref.step, c.ref.attempt};
  store_.with_links([&](FluidLinks& n) {
    const double now = wall_now();
    n.advance(now);
    n.add(std::get<0>(key), c.ref.step, c.ref.attempt, route, bytes, now);
  });
  std::unique_lock lk(mu_);
  waiting_[key] = ++seq_;
  kicked_ = true;
  wake_.notify_all();
  done_.wait(lk, [&] { return !waiting_.count(key) || stop_ || !error_.empty(); });
  if (!error_.empty()) throw std::runtime_error(error_);
}

void LiveLinks::start_rule(const StepContext& c, int route, double bytes, double delay_s) {
  store_.with_links([&](FluidLinks& n) {
    const double now = wall_now();
    n.advance(now);
    n.add(static_cast<std::int64_t>(c.ref.session), c.ref.step, c.ref.attempt, route, bytes, now + delay_s * scale_);
  });
  std::lock_guard lk(mu_);
  kicked_ = true;
  wake_.notify_all();
}

bool LiveLinks::rule_done(const StepContext& c, int step) {
  bool moving = false;
  store_.with_links([&](FluidLinks& n) {
    n.advance(wall_now());
    moving = n.moving(static_cast<std::int64_t>(c.ref.session), step);
  });
  return !moving;
}

void LiveLinks::ticker() {
  for (;;) {
    std::uint64_t began;
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      began = ++seq_;
    }
    std::optional<double> next;
    std::set<Key> moving;
    try {
      store_.with_links([&](FluidLinks& n) {
        n.advance(wall_now());
        next = n.next_event();
        moving.clear();  // a run again after a lost connection starts over
        for (const auto& x : n.transfers())
          if (x.phase != FluidLinks::Phase::done) moving.insert({x.session, x.step, x.attempt});
      });
    } catch (const std::exception& e) {
      std::lock_guard lk(mu_);
      error_ = std::string("the links' state in the database: ") + e.what();
      done_.notify_all();
      return;
    }
    std::unique_lock lk(mu_);
    for (auto it = waiting_.begin(); it != waiting_.end();)
      it = it->second < began && !moving.count(it->first) ? waiting_.erase(it) : std::next(it);
    done_.notify_all();
    if (stop_) return;
    const double now = wall_now();
    double until = now + (moving.empty() ? kIdle_s : kLookEvery_s);
    if (next) until = std::min(until, *next);
    const auto deadline = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(until)));
    wake_.wait_until(lk, deadline, [&] { return kicked_ || stop_; });
    kicked_ = false;
  }
}

}  // namespace stepq::live
