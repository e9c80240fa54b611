#include "world.hpp"

#include <cmath>
#include <unordered_set>

#include "core/rng.hpp"

namespace stepq::sim {

namespace sg4 = simgrid::s4u;

namespace {
// A first guess of the run's length, for the timeline's bin width (it doubles as needed).
double expected_span(const Scenario& sc) {
  const auto& a = sc.arrivals;
  if (sc.duration_s) return *sc.duration_s;
  if (a.process == ArrivalSpec::Process::trace) return a.times.empty() ? 1.0 : a.times.back();
  return sc.sessions ? static_cast<double>(*sc.sessions) / a.rate_per_s : 1.0;
}
}  // namespace

World::World(const Scenario& sc, std::uint64_t early_limit)
    : sc_(sc),
      activate_(sc.dispatch.dependencies == DispatchSpec::Dependencies::activate),
      early_limit_(early_limit),
      timeline_(sc.pools.size(), expected_span(sc) / Timeline::kMaxBins) {
  early_waits_.resize(sc.kinds.size());
  stats_.kinds.resize(sc.kinds.size());
  stats_.pools.resize(sc.pools.size());
  pools_.resize(sc.pools.size());
  for (auto& p : pools_) p.wake = sg4::Semaphore::create(0);
  promoter_wake_ = sg4::Semaphore::create(0);
  all_finished_ = sg4::Semaphore::create(0);
}

World::~World() {
  // Sessions still referenced by queue entries (cancelled steps nobody popped) are freed here.
  std::unordered_set<Session*> left;
  for (auto& p : pools_)
    for (auto& e : p.ready) left.insert(e.s);
  for (; !waiting_.empty(); waiting_.pop()) left.insert(waiting_.top().e.s);
  for (Session* s : left) delete s;
}

void World::set_phase(Session* s, int step, Phase to) {
  StepRt& st = s->steps[step];
  st.phase = transition(st.phase, to);
}

void World::accept(std::uint64_t index) {
  const int t = sc_.template_for(index);
  const TemplateSpec& tp = sc_.templates[t];

  auto* s = new Session{index, t, now(), static_cast<int>(tp.steps.size()), 0, false, {}};
  s->steps.resize(tp.steps.size());
  for (auto& st : s->steps) st.activated_at = s->accepted;  // roots; the others are set on completion
  for (std::size_t i = 0; i < tp.steps.size(); ++i) {
    s->steps[i].deps_left = static_cast<unsigned short>(tp.plan.preds[i].size());
    stats_.kinds[tp.steps[i].kind].steps++;
  }
  stats_.arrived++;
  startup_by_index_.push_back(std::numeric_limits<double>::quiet_NaN());
  stats_.prepare_cost_sum += tp.total_prepare_cost_s;
  if (activate_) {
    for (int r : tp.plan.roots) make_ready(s, r);
  } else {
    // recheck: every step is READY at once; a claimed step whose predecessors are not done
    // goes back to WAITING (the broker's behaviour today).
    for (std::size_t i = 0; i < tp.steps.size(); ++i) make_ready(s, static_cast<int>(i));
  }
}

void World::make_ready(Session* s, int step) {
  set_phase(s, step, Phase::READY);
  StepRt& st = s->steps[step];
  st.ready_at = now();
  const int pool = sc_.kinds[sc_.templates[s->tmpl].steps[step].kind].pool;
  timeline_.change(st.ready_at, pool, Timeline::ready, +1);
  PoolRt& p = pools_[pool];
  p.ready.push_back({s, step});
  s->refs++;
  if (p.idle > 0) {  // wake exactly one idle thread for one new step
    p.idle--;
    p.wake->release();
  }
}

std::optional<StepRef> World::claim(int pool) {
  if (sc_.dispatch.claim_s > 0) {  // the claim query's cost; the thread is busy meanwhile
    sleep_for(sc_.dispatch.claim_s);
    stats_.pools[pool].busy_s += sc_.dispatch.claim_s;
  }
  PoolRt& p = pools_[pool];
  while (!p.ready.empty()) {
    const Entry e = p.ready.front();
    p.ready.pop_front();
    e.s->refs--;
    StepRt& st = e.s->steps[e.step];
    if (st.phase != Phase::READY) {  // cancelled while queued
      release(e.s);
      continue;
    }
    set_phase(e.s, e.step, Phase::RUNNING);
    timeline_.change(now(), pool, Timeline::ready, -1);
    st.fence = ++fence_seq_;
    e.s->refs++;
    running_++;
    const PlanStep& ps = sc_.templates[e.s->tmpl].steps[e.step];
    StepRef r;
    r.id = reinterpret_cast<std::uintptr_t>(e.s);
    r.fence = st.fence;
    r.session = e.s->index;
    r.tmpl = e.s->tmpl;
    r.step = e.step;
    r.kind = ps.kind;
    r.attempt = st.attempt;
    r.ready_at = st.ready_at;
    r.activated_at = st.activated_at;
    return r;
  }
  return std::nullopt;
}

bool World::predecessors_done(const StepRef& r) {
  auto* s = reinterpret_cast<Session*>(r.id);
  for (int p : sc_.templates[s->tmpl].plan.preds[r.step])
    if (s->steps[p].phase != Phase::COMPLETED) return false;
  return true;
}

bool World::finish(const StepRef& r, const Outcome& o) {
  auto* s = reinterpret_cast<Session*>(r.id);
  StepRt& st = s->steps[r.step];
  s->refs--;
  running_--;
  if (st.phase != Phase::RUNNING || st.fence != r.fence) {  // lease lost: the result is dropped
    release(s);
    check_all_finished();
    return false;
  }
  KindStats& ks = stats_.kinds[r.kind];
  switch (o.type) {
    case Outcome::Type::completed: {
      set_phase(s, r.step, Phase::COMPLETED);
      ks.completed++;
      for (int n : sc_.templates[s->tmpl].plan.succs[r.step])
        if (--s->steps[n].deps_left == 0) {
          s->steps[n].activated_at = now();
          if (activate_) make_ready(s, n);
        }
      if (--s->remaining == 0) {
        stats_.started++;
        stats_.startup_s.add(now() - s->accepted);
        startup_by_index_[s->index] = now() - s->accepted;
        session_done(s);
      }
      break;
    }
    case Outcome::Type::failed:
      set_phase(s, r.step, Phase::FAILED);
      ks.failed++;
      fail_session(s, r.step, o.reason);
      break;
    case Outcome::Type::wait: {
      set_phase(s, r.step, Phase::WAITING);
      ks.requeues++;
      if (o.next_attempt) {
        ks.retries++;
        st.attempt++;
      }
      const double due = now() + o.delay_s;
      waiting_.push({due, timer_seq_++, {s, r.step}});
      s->refs++;
      if (due < promoter_until_) {
        promoter_until_ = due;
        promoter_wake_->release();
      }
      break;
    }
  }
  release(s);
  check_all_finished();
  return true;
}

void World::fail_session(Session* s, int failed_step, const std::string& reason) {
  const TemplateSpec& tp = sc_.templates[s->tmpl];
  for (std::size_t i = 0; i < s->steps.size(); ++i)
    if (static_cast<int>(i) != failed_step && !is_terminal(s->steps[i].phase)) {
      if (s->steps[i].phase == Phase::READY)  // its queue entry stays until a claim skips it
        timeline_.change(now(), sc_.kinds[tp.steps[i].kind].pool, Timeline::ready, -1);
      set_phase(s, static_cast<int>(i), Phase::CANCELLED);
      stats_.kinds[tp.steps[i].kind].cancelled++;
    }
  stats_.failed++;
  stats_.add_failure(reason);
  session_done(s);
}

void World::session_done(Session* s) {
  s->done = true;
  if (trace_) trace_->session({s->index, s->tmpl, s->accepted, now(), s->remaining == 0});
  finished_++;
}

void World::check_all_finished() {
  if (all_arrived_ && finished_ == stats_.arrived && running_ == 0) all_finished_->release();
}

void World::release(Session* s) {
  if (s->done && s->refs == 0) delete s;
}

bool World::wait_for_work(int pool) {
  if (sc_.dispatch.mode == DispatchSpec::Mode::poll) {
    sleep_for(sc_.dispatch.poll_interval_s);
  } else {
    pools_[pool].idle++;
    pools_[pool].wake->acquire();
  }
  return true;
}

void World::promote_forever() {
  constexpr double kEps = 1e-9;  // simulated clocks add up with rounding: "due" means within 1 ns
  for (;;) {
    if (waiting_.empty()) {
      promoter_until_ = std::numeric_limits<double>::infinity();
      promoter_wake_->acquire();
      continue;
    }
    const Timer t = waiting_.top();
    if (t.due <= now() + kEps) {
      waiting_.pop();
      t.e.s->refs--;
      if (t.e.s->steps[t.e.step].phase == Phase::WAITING)
        make_ready(t.e.s, t.e.step);
      else
        release(t.e.s);
      continue;
    }
    promoter_until_ = t.due;
    promoter_wake_->acquire_timeout(t.due - now());
    promoter_until_ = std::numeric_limits<double>::infinity();
  }
}

void World::wait_until_all_finished() {
  all_arrived_ = true;
  if (finished_ < stats_.arrived || running_ > 0) all_finished_->acquire();
}

void World::claimed(int pool, const StepRef& s, double wait_s) {
  timeline_.change(now(), pool, Timeline::busy, +1);
  KindStats& k = stats_.kinds[s.kind];
  k.claims++;
  k.wait_s.add(wait_s);
  if (s.session < early_limit_) {
    early_waits_[s.kind].session.push_back(static_cast<std::uint32_t>(s.session));
    early_waits_[s.kind].wait.push_back(wait_s);
  }
  stats_.pools[pool].claims++;
}

void World::drop_warmup(std::uint64_t cutoff) {
  cutoff = std::min(cutoff, early_limit_);  // waits beyond what was remembered cannot be taken back
  stats_.warmup_dropped = cutoff;
  if (cutoff == 0) return;  // nothing to take out: the statistics stay bit for bit those of --warmup none
  stats_.startup_s = Histogram();
  for (std::size_t i = cutoff; i < startup_by_index_.size(); ++i)
    if (!std::isnan(startup_by_index_[i])) stats_.startup_s.add(startup_by_index_[i]);
  for (std::size_t k = 0; k < early_waits_.size(); ++k)
    for (std::size_t i = 0; i < early_waits_[k].session.size(); ++i)
      if (early_waits_[k].session[i] < cutoff) stats_.kinds[k].wait_s.remove(early_waits_[k].wait[i]);
}

void World::ran(int pool, const StepRef& s, double busy_s, const Outcome& o, bool applied) {
  timeline_.change(now(), pool, Timeline::busy, -1);
  if (trace_) {
    const char* what = !applied                             ? "lost"
                       : o.type == Outcome::Type::completed ? "completed"
                       : o.type == Outcome::Type::failed    ? "failed"
                       : o.next_attempt                     ? "retry"
                                                            : "requeue";
    trace_->claim({s.session, s.tmpl, s.step, s.kind, pool, s.attempt, s.ready_at, now() - busy_s, now(), what});
  }
  KindStats& k = stats_.kinds[s.kind];
  k.service_s.add(busy_s);
  if (!applied) k.lost++;
  stats_.pools[pool].busy_s += busy_s;
}

void World::finish_timeline(double end) {
  timeline_.finish(end);
  stats_.timeline = timeline_.series();
}

}  // namespace stepq::sim
