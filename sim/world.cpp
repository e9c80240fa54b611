#include "world.hpp"

#include <cmath>
#include <cstring>
#include <unordered_set>

#include <simgrid/kernel/Timer.hpp>

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

// A remembered wait as a float, its mantissa cut rather than rounded: rounding could carry into
// the top 11 bits, and so into a neighbouring Histogram bucket; cutting keeps the bucket, so a
// removed wait leaves the quantiles exactly as if it had never been added.
float kept(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= ~((std::uint64_t{1} << 29) - 1);  // a double's 52 mantissa bits down to a float's 23
  std::memcpy(&v, &bits, sizeof bits);
  return static_cast<float>(v);  // exact now, within a float's range (waits are 2^-30..2^40 s)
}
// The middle of what kept() cut away: in the same bucket, and unbiased, so the errors of many
// removed waits cancel rather than add up (tests/report/test_csv.cpp: a mean within 1e-6 of
// exact failed with the bare truncated values, 1.2e-6 off; this is 2e-8).
double restored(float f) {
  if (!(f > 0)) return 0;
  int e;
  std::frexp(f, &e);
  return static_cast<double>(f) + std::ldexp(1.0, e - 25);
}

constexpr double kFit = 1e-9;  // bytes are summed in floating point: fit within this
}  // namespace

World::World(const Scenario& sc, std::uint64_t early_limit)
    : sc_(sc),
      activate_(sc.dispatch.dependencies == DispatchSpec::Dependencies::activate),
      early_limit_(early_limit),
      timeline_(sc.pools.size() + 2 * sc.platform.clusters.size() + 2 * sc.platform.links.size(),
                expected_span(sc) / Timeline::kMaxBins),
      net_(sc, timeline_, sc.pools.size() + 2 * sc.platform.clusters.size(), stats_.links) {
  if (sc.sessions) startup_by_index_.reserve(*sc.sessions);  // no doubling copy at the end of a long run
  stats_.kinds.resize(sc.kinds.size());
  stats_.pools.resize(sc.pools.size());
  stats_.clusters.resize(sc.platform.clusters.size());
  pools_.resize(sc.pools.size());
  for (auto& p : pools_) p.wake = sg4::Semaphore::create(0);
  promoter_wake_ = sg4::Semaphore::create(0);
  all_finished_ = sg4::Semaphore::create(0);
  const std::uint64_t users = sc.arrivals.users ? sc.arrivals.users->count : 1;
  for (const auto& spec : sc.platform.clusters) clusters_.push_back({ClusterState(spec, users), 0});
  for (const auto& a : sc.platform.areas) area_free_.push_back(a.quota_bytes);
}

World::~World() {
  // Sessions still referenced by queue entries (cancelled steps nobody popped) or timers are
  // freed here.
  std::unordered_set<Session*> left;
  for (auto& p : pools_)
    for (auto& e : p.ready) left.insert(e.s);
  for (; !waiting_.empty(); waiting_.pop()) left.insert(waiting_.top().e.s);
  for (Session* s : rule_holders_) left.insert(s);  // rules still moving when the run ended
  for (Session* s : left) delete s;
}

void World::set_phase(Session* s, int step, Phase to) {
  StepRt& st = s->steps[step];
  st.phase = transition(st.phase, to);
}

void World::accept(std::uint64_t index, int tmpl) {
  const int t = tmpl >= 0 ? tmpl : sc_.template_for(index);
  const TemplateSpec& tp = sc_.templates[t];
  const int released = tp.release_end() - tp.startup_steps;

  auto* s = new Session();
  s->index = index;
  s->tmpl = t;
  s->accepted = now();
  s->remaining = tp.startup_steps;
  s->release_left = released;
  s->steps.resize(tp.steps.size());
  for (auto& st : s->steps) st.activated_at = s->accepted;  // roots; the others are set on completion
  for (std::size_t i = 0; i < tp.steps.size(); ++i) {
    s->steps[i].deps_left = static_cast<unsigned short>(tp.preds(static_cast<int>(i)).size());
    stats_.kinds[tp.steps[i].kind].steps++;
  }
  if (tp.clustered()) {  // what it will ask of its cluster, from its own stream
    Stream r(derive(session_key(sc_.seed, index), static_cast<std::uint64_t>(Purpose::request)));
    s->compute.cores = tp.session->cores.sample(r);
    s->compute.memory_GB = tp.session->memory_GB.sample(r);
    if (sc_.arrivals.users) s->compute.user = sc_.arrivals.users->user_of(sc_.seed, index);
  }
  stats_.arrived++;
  // Indexes are dense from 0, except in a forecast, where they continue the live database's.
  if (startup_by_index_.size() <= index) startup_by_index_.resize(index + 1, std::numeric_limits<double>::quiet_NaN());
  stats_.prepare_cost_sum += tp.total_prepare_cost_s;
  if (activate_) {
    for (int r : tp.plan.roots) make_ready(s, r);
  } else {
    // recheck: every step is READY at once; a claimed step whose predecessors are not done
    // goes back to WAITING (the broker's behaviour today).
    for (int i = 0; i < tp.startup_steps; ++i) make_ready(s, i);
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

void World::suspend_for(double d) {
  sg4::ActorPtr self = sg4::Actor::self();  // held by the timer: safe even if the actor is killed
  simgrid::kernel::timer::Timer::set(sg4::Engine::get_clock() + d, [self] { self->resume(); });
  sg4::this_actor::suspend();
}

std::optional<StepRef> World::claim(int pool) {
  if (claim_paid_) {
    claim_paid_ = false;
  } else if (sc_.dispatch.claim_s > 0) {  // the claim query's cost; the thread is busy meanwhile (settle())
    debt_ += sc_.dispatch.claim_s;
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
    timeline_.change(engine_now(), pool, Timeline::ready, -1);  // in time order with everyone's
    st.fence = ++fence_seq_;
    st.claimed_at = now();
    e.s->refs++;
    running_++;
    return step_ref(e.s, e.step);
  }
  return std::nullopt;
}

StepRef World::step_ref(Session* s, int step) const {
  const StepRt& st = s->steps[step];
  StepRef r;
  r.id = reinterpret_cast<std::uintptr_t>(s);
  r.fence = st.fence;
  r.session = s->index;
  r.tmpl = s->tmpl;
  r.step = step;
  r.kind = sc_.templates[s->tmpl].steps[step].kind;
  r.attempt = st.attempt;
  r.ready_at = st.ready_at;
  r.activated_at = st.activated_at;
  return r;
}

bool World::predecessors_done(const StepRef& r) {
  auto* s = reinterpret_cast<Session*>(r.id);
  for (int p : sc_.templates[s->tmpl].preds(r.step))
    if (s->steps[p].phase != Phase::COMPLETED) return false;
  return true;
}

void World::add_timer(double due, Session* s, int step) {
  waiting_.push({due, timer_seq_++, {s, step}});
  s->refs++;
  if (due < promoter_until_) {
    promoter_until_ = due;
    promoter_wake_->release();
  }
}

bool World::finish(const StepRef& r, const Outcome& o) {
  settle();
  auto* s = reinterpret_cast<Session*>(r.id);
  StepRt& st = s->steps[r.step];
  running_--;
  if (st.phase != Phase::RUNNING || st.fence != r.fence) {  // lease lost: the result is dropped
    s->refs--;
    release(s);
    check_all_finished();
    return false;
  }
  // The claim's reference is given up only at the end: waking a worker (a semaphore release) is
  // a simcall, and other actors may run meanwhile, even finish the session.
  // The claim's wait and service, unless the session was Pending meanwhile (that is capacity).
  if (s->compute.state != Compute::State::queued) {
    st.wait_s += st.claimed_at - st.ready_at;
    st.service_s += now() - st.claimed_at;
  }
  const TemplateSpec& tp = sc_.templates[s->tmpl];
  const bool in_release = r.step >= tp.startup_steps;
  KindStats& ks = stats_.kinds[r.kind];
  switch (o.type) {
    case Outcome::Type::completed: {
      set_phase(s, r.step, Phase::COMPLETED);
      st.done_at = now();
      ks.completed++;
      for (int n : tp.succs(r.step))
        if (--s->steps[n].deps_left == 0) {
          s->steps[n].activated_at = now();
          if (activate_) make_ready(s, n);
        }
      if (in_release) {
        if (--s->release_left == 0) {
          if (!s->failed) stats_.completed++;
          session_done(s);
        }
      } else if (--s->remaining == 0) {
        startup_complete(s, r.step);
      }
      break;
    }
    case Outcome::Type::failed:
      set_phase(s, r.step, Phase::FAILED);
      ks.failed++;
      if (r.step == tp.lease_step) {  // no more renewals: the session runs on, its replicas unguarded
        stats_.lease_failed++;
        break;
      }
      fail_session(s, r.step, o.reason);
      break;
    case Outcome::Type::wait: {
      if (r.step == tp.lease_step && !o.next_attempt) {  // renewed
        stats_.lease_extensions++;
        if (now() - st.done_at > tp.lease->lifetime_s) stats_.lease_late++;
        st.done_at = now();
        if (s->releasing || s->done) {  // the session ended meanwhile: nothing left to renew
          set_phase(s, r.step, Phase::COMPLETED);
          ks.completed++;
          break;
        }
      }
      set_phase(s, r.step, Phase::WAITING);
      ks.requeues++;
      if (o.next_attempt) {
        ks.retries++;
        st.attempt++;
      }
      add_timer(now() + o.delay_s, s, r.step);
      break;
    }
  }
  s->refs--;
  release(s);
  check_all_finished();
  return true;
}

void World::startup_complete(Session* s, int last_step) {
  const TemplateSpec& tp = sc_.templates[s->tmpl];
  const double startup = now() - s->accepted;
  stats_.started++;
  stats_.startup_s.add(startup);
  startup_by_index_[s->index] = startup;
  if (on_startup_end) on_startup_end(s->index, startup);
  if (trace_) trace_->session({s->index, s->tmpl, s->accepted, now(), true});

  // The split, along the critical path: back from the step that completed last, each time to the
  // predecessor that completed last.
  double wait = 0, service = 0, pending = 0;
  for (int step = last_step;;) {
    wait += s->steps[step].wait_s;
    service += s->steps[step].service_s;
    int next = -1;
    for (int p : tp.preds(step))
      if (next < 0 || s->steps[p].done_at > s->steps[next].done_at) next = p;
    if (next < 0) break;
    step = next;
  }
  int cluster = -1;
  if (tp.clustered() && s->compute.state == Compute::State::placed) {
    cluster = tp.session->cluster;
    pending = s->compute.admitted_at - s->compute.submitted_at;
    stats_.clusters[cluster].pending_s.add(pending);
  }
  const double other = std::max(0.0, startup - pending - wait - service);
  stats_.split.pending += pending, stats_.split.wait += wait, stats_.split.service += service;
  stats_.split.other += other;
  if (s->index < early_limit_)
    early_splits_.push(
        {static_cast<std::uint32_t>(s->index), cluster, kept(pending), kept(wait), kept(service), kept(other)});

  if (tp.lease) {                             // renewals while it runs, the first every_s after its start
    s->steps[tp.lease_step].done_at = now();  // the last renewal: the replicas are fresh now
    add_timer(now() + tp.lease->every_s, s, tp.lease_step);
  }
  if (!tp.has_release()) {
    end_lease(s);
    session_done(s);
    return;
  }
  // It runs run_s from when it was Running (on a cluster; else from now), then gives back.
  Stream r(derive(session_key(sc_.seed, s->index), static_cast<std::uint64_t>(Purpose::run)));
  const double run = tp.session ? tp.session->run_s.sample(r) : 0.0;
  const double from = tp.clustered() && s->compute.running ? s->compute.running_at : now();
  const double end = std::max(now(), from + run);
  if (end > now()) add_timer(end, s, kSessionEnd);
  else start_release(s);
}

void World::start_release(Session* s) {
  const TemplateSpec& tp = sc_.templates[s->tmpl];
  s->releasing = true;
  for (int i = tp.startup_steps; i < tp.release_end(); ++i) s->steps[i].activated_at = now();
  end_lease(s);
  if (activate_) {
    for (int r : tp.release_plan.roots) make_ready(s, r);
  } else {
    for (int i = tp.startup_steps; i < tp.release_end(); ++i) make_ready(s, i);
  }
}

void World::end_lease(Session* s) {
  const int l = sc_.templates[s->tmpl].lease_step;
  if (l < 0) return;
  const Phase p = s->steps[l].phase;
  if (is_terminal(p) || p == Phase::RUNNING) return;  // a renewal under way completes when it finishes
  if (p == Phase::READY)
    timeline_.change(now(), sc_.kinds[sc_.templates[s->tmpl].steps[l].kind].pool, Timeline::ready, -1);
  set_phase(s, l, Phase::CANCELLED);  // its queue entry or timer stays until skipped
  stats_.kinds[sc_.templates[s->tmpl].steps[l].kind].cancelled++;
}

void World::fail_session(Session* s, int failed_step, const std::string& reason) {
  const TemplateSpec& tp = sc_.templates[s->tmpl];
  const bool in_release = failed_step >= tp.startup_steps;
  // The failed step's own group goes: the start-up, or what is left of the release.
  const int from = in_release ? tp.startup_steps : 0;
  const int to = in_release ? tp.release_end() : tp.startup_steps;
  for (int i = from; i < to; ++i)
    if (i != failed_step && !is_terminal(s->steps[i].phase)) {
      if (s->steps[i].phase == Phase::READY)  // its queue entry stays until a claim skips it
        timeline_.change(now(), sc_.kinds[tp.steps[i].kind].pool, Timeline::ready, -1);
      set_phase(s, i, Phase::CANCELLED);
      stats_.kinds[tp.steps[i].kind].cancelled++;
    }
  if (in_release) {  // what it held may not have come back (a failed delete keeps its cores)
    stats_.release_failed++;
    session_done(s);
    return;
  }
  stats_.failed++;
  stats_.add_failure(reason);
  s->failed = true;
  if (on_startup_end) on_startup_end(s->index, std::numeric_limits<double>::quiet_NaN());
  if (trace_) trace_->session({s->index, s->tmpl, s->accepted, now(), false});
  // A failed session gives back what it had, by the same release steps.
  if (tp.has_release()) start_release(s);
  else session_done(s);
}

void World::session_done(Session* s) {
  s->done = true;
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
    // A poll interval may be under way when the run ends: a sleep, not suspend_for's timer.
    const double d = sc_.dispatch.poll_interval_s + debt_;  // after the empty claim it owes for
    debt_ = 0;
    sg4::this_actor::sleep_for(d);
  } else {
    // Idle at once. Woken while its empty claim's query would still have run, that query finds
    // the new step when it ends: the thread owes the rest of it and claims at no further cost.
    const double free_at = engine_now() + debt_;
    debt_ = 0;
    pools_[pool].idle++;
    pools_[pool].wake->acquire();
    if (engine_now() < free_at) debt_ = free_at - engine_now(), claim_paid_ = true;
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
      Session* s = t.e.s;
      if (t.e.step == kSessionEnd) {
        if (!s->done) start_release(s);  // the timer's reference holds it meanwhile (simcalls)
        s->refs--;
        release(s);
      } else if (s->steps[t.e.step].phase == Phase::WAITING ||
                 (t.e.step == sc_.templates[s->tmpl].lease_step && s->steps[t.e.step].phase == Phase::DORMANT)) {
        s->refs--;
        make_ready(s, t.e.step);
      } else {
        s->refs--;
        release(s);
      }
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
  timeline_.change(engine_now(), pool, Timeline::busy, +1);  // busy from the claim query on
  KindStats& k = stats_.kinds[s.kind];
  k.claims++;
  k.wait_s.add(wait_s);
  if (s.session < early_limit_) {
    early_waits_.push({static_cast<std::uint32_t>(s.session), static_cast<std::uint32_t>(s.kind), kept(wait_s)});
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
  early_waits_.for_each([&](const EarlyWait& e) {
    if (e.session < cutoff) stats_.kinds[e.kind].wait_s.remove(restored(e.wait));
  });
  early_splits_.for_each([&](const EarlySplit& e) {
    if (e.session < cutoff) {
      stats_.split.pending -= restored(e.pending), stats_.split.wait -= restored(e.wait);
      stats_.split.service -= restored(e.service), stats_.split.other -= restored(e.other);
      if (e.cluster >= 0) stats_.clusters[e.cluster].pending_s.remove(restored(e.pending));
    }
  });
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

void World::start_rule(const StepContext& c, int route, double bytes, double delay_s) {
  settle();
  auto* s = reinterpret_cast<Session*>(c.ref.id);
  const int step = c.ref.step;
  s->steps[step].rule = StepRt::Rule::moving;
  stats_.kinds[c.ref.kind].copied++;
  s->refs++;
  rule_holders_.insert(s);
  net_.start(delay_s, route, bytes, [this, s, step] {
    s->steps[step].rule = StepRt::Rule::done;
    rule_holders_.erase(rule_holders_.find(s));
    s->refs--;
    release(s);
  });
}

bool World::rule_done(const StepContext& c, int step) {
  return reinterpret_cast<Session*>(c.ref.id)->steps[step].rule != StepRt::Rule::moving;
}

void World::finish_timeline(double end) {
  net_.finish();
  for (std::size_t c = 0; c < clusters_.size(); ++c) cluster_changed(static_cast<int>(c));  // close the integrals
  timeline_.finish(end);
  stats_.timeline = timeline_.series();
}

// --- Capacity: clusters and storage areas ---

void World::cluster_changed(int c) {
  ClusterRt& cl = clusters_[c];
  ClusterStats& cs = stats_.clusters[c];
  const double dt = now() - cl.last_change;
  cs.cores_s += cl.state.used_cores() * dt;
  cs.memory_GB_s += cl.state.used_memory_GB() * dt;
  cs.queued_s += static_cast<double>(cl.state.queued()) * dt;
  cs.max_queue = std::max<std::uint64_t>(cs.max_queue, cl.state.queued());
  cl.last_change = now();
}

// Timeline series of cluster c: (queued, cores in use), then (memory in use, refused so far).
void World::admit(int c) {
  const std::size_t series = sc_.pools.size() + 2 * static_cast<std::size_t>(c);
  for (const auto& p : clusters_[c].state.admit()) {
    Compute& r = reinterpret_cast<Session*>(p.id)->compute;
    r.state = Compute::State::placed;
    r.admitted_at = now();
    stats_.clusters[c].admitted++;
    timeline_.change(now(), series, Timeline::ready, -1);
    timeline_.change(now(), series, Timeline::busy, r.cores);
    timeline_.change(now(), series + 1, Timeline::ready, r.memory_GB);
  }
}

OpResult World::submit(const StepContext& ctx) {
  settle();
  auto* s = reinterpret_cast<Session*>(ctx.ref.id);
  Compute& r = s->compute;
  if (r.state != Compute::State::none) return {};  // submitted before (a repeated launch)
  const int c = sc_.templates[s->tmpl].session->cluster;
  const ClusterSpec& spec = sc_.platform.clusters[c];
  const std::size_t series = sc_.pools.size() + 2 * static_cast<std::size_t>(c);
  cluster_changed(c);
  if (!clusters_[c].state.submit({ctx.ref.id, r.cores, r.memory_GB, r.user})) {
    stats_.clusters[c].refused++;
    timeline_.change(now(), series + 1, Timeline::busy, +1);
    return {false, false, user_limit_refusal(spec), 0};
  }
  stats_.clusters[c].submitted++;
  r.state = Compute::State::queued;
  r.submitted_at = now();
  s->refs++;  // the cluster's, until it is released
  timeline_.change(now(), series, Timeline::ready, +1);
  admit(c);
  return {};
}

Capacity::Compute World::compute(const StepContext& ctx) {
  const Compute& r = reinterpret_cast<Session*>(ctx.ref.id)->compute;
  Capacity::Compute c;
  c.submitted = r.state != Compute::State::none;
  c.submitted_at = r.submitted_at;
  if (r.state == Compute::State::placed) c.admitted_at = r.admitted_at;
  return c;
}

void World::running(const StepContext& ctx, double at) {
  Compute& r = reinterpret_cast<Session*>(ctx.ref.id)->compute;
  if (!r.running) r.running = true, r.running_at = at;
}

void World::release_compute(const StepContext& ctx) {
  settle();
  auto* s = reinterpret_cast<Session*>(ctx.ref.id);
  Compute& r = s->compute;
  if (r.state != Compute::State::queued && r.state != Compute::State::placed) return;
  const int c = sc_.templates[s->tmpl].session->cluster;
  const std::size_t series = sc_.pools.size() + 2 * static_cast<std::size_t>(c);
  cluster_changed(c);
  if (clusters_[c].state.release(ctx.ref.id) == ClusterState::Released::placed) {
    timeline_.change(now(), series, Timeline::busy, -r.cores);
    timeline_.change(now(), series + 1, Timeline::ready, -r.memory_GB);
  } else {  // deleted while Pending: out of the queue
    timeline_.change(now(), series, Timeline::ready, -1);
  }
  s->refs--;
  r.state = Compute::State::released;
  admit(c);
}

bool World::reserve(const StepContext& ctx) {
  settle();
  auto* s = reinterpret_cast<Session*>(ctx.ref.id);
  const int a = ctx.step.area;
  if (area_free_[a] + kFit < ctx.step.bytes) return false;
  area_free_[a] -= ctx.step.bytes;
  if (ctx.step.mount == Mount::write_temp) s->temp.emplace_back(a, ctx.step.bytes);
  return true;
}

void World::free_temp(const StepContext& ctx) {
  settle();
  auto* s = reinterpret_cast<Session*>(ctx.ref.id);
  for (const auto& [a, bytes] : s->temp) area_free_[a] += bytes;
  s->temp.clear();
}

}  // namespace stepq::sim
