#include "fluid_links.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stepq {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
// Times this close are the same instant: SimGrid's precision (1e-9 s), or a few units in the last
// place of a time near 1.8e9 (wall seconds since the epoch: steps of 2.4e-7 s).
double same_instant(double t) { return 1e-9 + std::abs(t) * 1e-14; }

bool finished(const FluidLinks::Transfer& x) { return x.left <= std::max(1e-9 * x.bytes, 1e-6); }
}  // namespace

FluidLinks::FluidLinks(const PlatformSpec& p, double time_scale, double clock, std::vector<Transfer> unfinished,
                       std::int64_t next_id)
    : p_(p), scale_(time_scale), clock_(clock), t_(std::move(unfinished)), next_id_(next_id) {
  for (const RouteSpec& r : p_.routes) {
    penalty_.push_back(r.latency_s > 0 ? r.latency_s : 1.0);
    caps_.emplace_back();
    for (int l : r.links)
      if (p_.links[l].max_active > 0) caps_.back().push_back(l);
    std::sort(caps_.back().begin(), caps_.back().end());
  }
  active_.assign(p_.links.size(), 0);
  for (const Transfer& x : t_) {
    next_id_ = std::max(next_id_, x.id + 1);
    if (x.phase != Phase::done)
      for (int h = 0; h < x.held; ++h) active_[caps_[x.route][h]]++;
  }
  compute_rates();
}

void FluidLinks::hold_next(Transfer& x) { active_[caps_[x.route][x.held++]]++; }

void FluidLinks::take_slots(Transfer& x, double now) {
  const auto& caps = caps_[x.route];
  while (x.held < static_cast<int>(caps.size())) {
    const int l = caps[x.held];
    bool queue = false;  // someone waits at l already: first come, first served
    for (const Transfer& y : t_)
      if (&y != &x && y.phase == Phase::waiting && waits_at(y) == l) queue = true;
    if (queue || active_[l] >= p_.links[l].max_active) {
      x.phase = Phase::waiting;
      x.at = now;
      x.changed = true;
      return;
    }
    hold_next(x);
  }
  x.started_at = now;
  const double latency = p_.routes[x.route].latency_s * scale_;
  x.phase = latency > 0 ? Phase::latency : Phase::flowing;
  x.at = now + latency;
  x.changed = true;
}

void FluidLinks::pass_slots(double now) {
  for (bool moved = true; moved;) {
    moved = false;
    for (std::size_t l = 0; l < p_.links.size(); ++l) {
      if (p_.links[l].max_active == 0) continue;
      while (active_[l] < p_.links[l].max_active) {
        Transfer* next = nullptr;  // the oldest waiting at l
        for (Transfer& y : t_)
          if (y.phase == Phase::waiting && waits_at(y) == static_cast<int>(l) &&
              (!next || y.at < next->at || (y.at == next->at && y.id < next->id)))
            next = &y;
        if (!next) break;
        hold_next(*next);
        take_slots(*next, now);  // on to its next capped link, if any
        moved = true;
      }
    }
  }
}

void FluidLinks::compute_rates() {
  // Weighted max-min fairness by progressive filling: the link that offers the least per unit of
  // weight is the bottleneck of all its unfixed flows; fix them, take their rates off every link
  // they cross, repeat.
  rate_.assign(t_.size(), 0);
  std::vector<double> cap(p_.links.size());
  for (std::size_t l = 0; l < cap.size(); ++l) cap[l] = p_.links[l].bandwidth_Bps / scale_;
  std::vector<std::size_t> open;
  for (std::size_t i = 0; i < t_.size(); ++i)
    if (t_[i].phase == Phase::flowing) open.push_back(i);
  while (!open.empty()) {
    std::vector<double> weight(cap.size(), 0);
    for (std::size_t i : open)
      for (int l : p_.routes[t_[i].route].links) weight[l] += 1 / penalty_[t_[i].route];
    int bottleneck = -1;
    double level = kInf;
    for (std::size_t l = 0; l < cap.size(); ++l)
      if (weight[l] > 0 && std::max(cap[l], 0.0) / weight[l] < level)
        level = std::max(cap[l], 0.0) / weight[l], bottleneck = int(l);
    std::vector<std::size_t> rest;
    for (std::size_t i : open) {
      const auto& links = p_.routes[t_[i].route].links;
      if (std::find(links.begin(), links.end(), bottleneck) == links.end()) {
        rest.push_back(i);
        continue;
      }
      rate_[i] = level / penalty_[t_[i].route];
      for (int l : links) cap[l] -= rate_[i];
    }
    open.swap(rest);
  }
}

std::vector<double> FluidLinks::rates() const { return rate_; }

void FluidLinks::progress(double dt) {
  if (dt <= 0) return;
  for (std::size_t i = 0; i < t_.size(); ++i)
    if (t_[i].phase == Phase::flowing && rate_[i] > 0) {
      t_[i].left = std::max(0.0, t_[i].left - rate_[i] * dt);
      t_[i].changed = true;
    }
}

std::optional<double> FluidLinks::next_event() const {
  double next = kInf;
  for (std::size_t i = 0; i < t_.size(); ++i) {
    const Transfer& x = t_[i];
    if (x.phase == Phase::delayed || x.phase == Phase::latency) next = std::min(next, x.at);
    if (x.phase == Phase::flowing && rate_[i] > 0) next = std::min(next, clock_ + x.left / rate_[i]);
  }
  if (next == kInf) return std::nullopt;
  return std::max(next, clock_);
}

void FluidLinks::advance(double now) {
  for (;;) {
    const auto next = next_event();
    if (!next || *next > now + same_instant(now)) {
      progress(now - clock_);
      clock_ = std::max(clock_, now);
      return;
    }
    const double te = *next, eps = same_instant(te);
    progress(te - clock_);
    clock_ = te;
    // Finishes first (their slots pass to those waiting before anyone new arrives), then the
    // latencies that end, then the arrivals in the order they were due.
    for (std::size_t i = 0; i < t_.size(); ++i) {
      Transfer& x = t_[i];
      if (x.phase == Phase::flowing && (finished(x) || (rate_[i] > 0 && x.left / rate_[i] <= eps))) {
        x.phase = Phase::done;
        x.left = 0;
        x.at = te;
        x.changed = true;
        for (int h = 0; h < x.held; ++h) active_[caps_[x.route][h]]--;  // its slots are free
      }
    }
    pass_slots(te);
    for (Transfer& x : t_)
      if (x.phase == Phase::latency && x.at <= te + eps) x.phase = Phase::flowing, x.changed = true;
    std::vector<Transfer*> due;
    for (Transfer& x : t_)
      if (x.phase == Phase::delayed && x.at <= te + eps) due.push_back(&x);
    std::sort(due.begin(), due.end(),
              [](auto* a, auto* b) { return a->at < b->at || (a->at == b->at && a->id < b->id); });
    for (Transfer* x : due) {
      x->arrived_at = te;
      take_slots(*x, te);
    }
    compute_rates();
  }
}

std::int64_t FluidLinks::add(std::int64_t session, int step, int attempt, int route, double bytes, double at) {
  for (const Transfer& x : t_)
    if (x.session == session && x.step == step && x.attempt == attempt && x.phase != Phase::done) return x.id;
  Transfer x;
  x.id = next_id_++;
  x.session = session;
  x.step = step;
  x.attempt = attempt;
  x.route = route;
  x.bytes = x.left = bytes;
  x.at = std::max(at, clock_);
  x.added = x.changed = true;
  t_.push_back(x);
  if (t_.back().at <= clock_) {
    t_.back().arrived_at = clock_;
    take_slots(t_.back(), clock_);
  }
  compute_rates();
  return x.id;
}

bool FluidLinks::moving(std::int64_t session, int step) const {
  for (const Transfer& x : t_)
    if (x.session == session && x.step == step && x.phase != Phase::done) return true;
  return false;
}

}  // namespace stepq
