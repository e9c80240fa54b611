// World::restore: the simulator's model of the step table, filled from a live snapshot rather
// than from arrivals (stepq forecast). Phases are set as they stand, not walked through
// transition(): the live engine already walked them.
#include <algorithm>
#include <cmath>
#include <tuple>
#include <unordered_map>

#include "core/rng.hpp"
#include "world.hpp"

namespace stepq::sim {

std::vector<World::Resumed> World::restore(const QueueSnapshot& snap) {
  std::vector<Resumed> resumed;
  std::vector<std::tuple<double, std::uint64_t, Session*, int>> ready;  // (ready_at, session, ·, step)
  std::vector<std::pair<double, Session*>> queued;                      // cluster requests waiting, by when submitted
  std::unordered_map<std::uint64_t, Session*> by_index;
  if (!snap.area_free.empty()) area_free_ = snap.area_free;
  for (const QueueSnapshot::Session& in : snap.sessions) {
    const TemplateSpec& tp = sc_.templates[in.tmpl];
    auto* s = new Session();
    s->index = in.index;
    s->tmpl = in.tmpl;
    s->accepted = in.accepted;
    s->steps.resize(tp.steps.size());
    s->failed = in.ended;
    by_index[in.index] = s;
    if (startup_by_index_.size() <= in.index)
      startup_by_index_.resize(in.index + 1, std::numeric_limits<double>::quiet_NaN());
    stats_.arrived++;
    bool release_begun = false;
    for (std::size_t i = 0; i < tp.steps.size() && i < in.steps.size(); ++i) {
      const QueueSnapshot::Step& from = in.steps[i];
      StepRt& st = s->steps[i];
      st.phase = from.phase;
      st.attempt = static_cast<unsigned short>(from.attempt);
      st.activated_at = std::isnan(from.activated_at) ? in.accepted : from.activated_at;
      st.ready_at = std::isnan(from.ready_at) ? st.activated_at : from.ready_at;
      st.claimed_at = std::isnan(from.claimed_at) ? 0 : from.claimed_at;
      const bool release = static_cast<int>(i) >= tp.startup_steps;
      if (from.phase != Phase::COMPLETED) (release ? s->release_left : s->remaining)++;
      if (release && from.phase != Phase::DORMANT) release_begun = true;
      if (from.phase == Phase::COMPLETED) st.done_at = std::isnan(from.claimed_at) ? in.accepted : from.claimed_at;
    }
    for (int i = 0; i < static_cast<int>(s->steps.size()); ++i)
      for (int p : tp.preds(i)) s->steps[i].deps_left += s->steps[p].phase != Phase::COMPLETED;
    if (in.ended || !std::isnan(in.started_at)) s->remaining = 0;  // its start-up is behind it
    s->temp = in.temp;
    if (tp.clustered() && in.compute.state != QueueSnapshot::Compute::State::none) {
      const auto& c = in.compute;
      Compute& r = s->compute;
      r.cores = c.cores, r.memory_GB = c.memory_GB, r.user = c.user;
      r.submitted_at = std::isnan(c.submitted_at) ? 0 : c.submitted_at;
      r.admitted_at = std::isnan(c.admitted_at) ? 0 : c.admitted_at;
      r.running = !std::isnan(c.running_at);
      r.running_at = r.running ? c.running_at : 0;
      const int cl = tp.session->cluster;
      const std::size_t series = sc_.pools.size() + 2 * static_cast<std::size_t>(cl);
      if (c.state == QueueSnapshot::Compute::State::placed && c.node >= 0 &&
          static_cast<std::size_t>(c.node) < clusters_[static_cast<std::size_t>(cl)].state.nodes()) {
        r.state = Compute::State::placed;
        clusters_[static_cast<std::size_t>(cl)].state.restore_placed(
            {reinterpret_cast<std::uintptr_t>(s), r.cores, r.memory_GB, r.user}, c.node);
        s->refs++;  // the cluster's, until it is released
        timeline_.change(0, series, Timeline::busy, r.cores);
        timeline_.change(0, series + 1, Timeline::ready, r.memory_GB);
      } else if (c.state == QueueSnapshot::Compute::State::queued) {
        queued.emplace_back(r.submitted_at, s);
      } else {
        r.state = Compute::State::released;
      }
    }

    for (int i = 0; i < static_cast<int>(s->steps.size()); ++i) {
      StepRt& st = s->steps[i];
      switch (st.phase) {
        case Phase::READY: ready.emplace_back(st.ready_at, s->index, s, i); break;
        case Phase::WAITING: {
          const double due = in.steps[i].due;
          add_timer(std::isnan(due) ? 0 : std::max(0.0, due), s, i);
          break;
        }
        case Phase::RUNNING: {
          st.fence = ++fence_seq_;
          s->refs++;
          running_++;
          const int pool = sc_.kinds[tp.steps[i].kind].pool;
          timeline_.change(0, pool, Timeline::busy, +1);
          resumed.push_back({step_ref(s, i), pool, std::max(0.0, -st.claimed_at)});
          break;
        }
        default: break;
      }
    }
    if (in.ended || release_begun) {
      s->releasing = true;
    } else if (!std::isnan(in.started_at) && tp.has_release()) {
      // It runs: its run time, from Running on a cluster (else from start-up), is drawn beyond what
      // it has run already, from its own stream.
      Stream r(derive(session_key(sc_.seed, s->index), static_cast<std::uint64_t>(Purpose::run)));
      const double from = s->compute.running ? s->compute.running_at : in.started_at;
      const double run = tp.session ? tp.session->run_s.sample_beyond(r, -from) : 0.0;
      add_timer(std::max(0.0, from + run), s, kSessionEnd);
    }
    if (s->remaining == 0 && s->release_left == 0) {  // nothing left to do
      session_done(s);
      release(s);
    }
  }
  // The clusters' queues in the order their requests were submitted; then what fits now goes.
  std::stable_sort(queued.begin(), queued.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [at, s] : queued) {
    Compute& r = s->compute;
    const int cl = sc_.templates[s->tmpl].session->cluster;
    clusters_[static_cast<std::size_t>(cl)].state.submit(
        {reinterpret_cast<std::uintptr_t>(s), r.cores, r.memory_GB, r.user});
    r.state = Compute::State::queued;
    s->refs++;
    timeline_.change(0, sc_.pools.size() + 2 * static_cast<std::size_t>(cl), Timeline::ready, +1);
  }
  for (std::size_t c = 0; c < clusters_.size(); ++c) admit(static_cast<int>(c));
  // Transfers under way, in the order they reached their links (FTS slots go first come, first
  // served): a rule's bytes move again with what was left of them; a copy goes back to the
  // RUNNING step it belongs to.
  for (const QueueSnapshot::Transfer& t : snap.transfers) {
    const auto it = by_index.find(t.session);
    if (it == by_index.end() || it->second->done) continue;  // its session is over: nobody waits
    Session* s = it->second;
    const int kind = sc_.templates[s->tmpl].steps[static_cast<std::size_t>(t.step)].kind;
    if (sc_.kinds[static_cast<std::size_t>(kind)].rule) {
      const int step = t.step;
      s->steps[static_cast<std::size_t>(step)].rule = StepRt::Rule::moving;
      s->refs++;
      rule_holders_.insert(s);
      net_.start(t.delay_left, t.route, t.bytes_left, [this, s, step] {
        s->steps[static_cast<std::size_t>(step)].rule = StepRt::Rule::done;
        rule_holders_.erase(rule_holders_.find(s));
        s->refs--;
        release(s);
      });
    } else {
      for (Resumed& r : resumed)
        if (r.ref.session == t.session && r.ref.step == t.step && r.ref.attempt == t.attempt)
          r.copy_left = t.bytes_left;
    }
  }
  // Oldest READY first, as the claim query takes them; ties by session, then step.
  std::sort(ready.begin(), ready.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a), std::get<3>(a)) <
           std::tie(std::get<0>(b), std::get<1>(b), std::get<3>(b));
  });
  for (const auto& [at, index, s, step] : ready) {
    const int pool = sc_.kinds[sc_.templates[s->tmpl].steps[step].kind].pool;
    pools_[pool].ready.push_back({s, step});
    s->refs++;
    timeline_.change(0, pool, Timeline::ready, +1);
  }
  return resumed;
}

}  // namespace stepq::sim
