#include "sqlite_store.hpp"

#include "core/fluid_links.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "backends/live/lifecycle.hpp"
#include "backends/live/phase_sql.hpp"
#include "backends/live/store_status.hpp"
#include "backends/live/template_check.hpp"
#include "core/cluster.hpp"
#include "core/fluid_links.hpp"
#include "core/scenario.hpp"
#include "sql/capacity.hpp"
#include "sql/links.hpp"
#include "sql/processors.hpp"
#include "sql/queue.hpp"
#include "sql/schema.hpp"
#include "sql/status.hpp"
#include "sql/submission.hpp"

namespace stepq::sqlite {

using live::db_phase;
using live::StoreError;
using live::wall_now;

SqliteStore::SqliteStore(const std::string& path, bool create) : db_(path, create) {
  last_data_version_ = db_.data_version();
}

int SqliteStore::schema_version() {
  std::lock_guard lk(mu_);
  auto s = db_.prepare(sql::kReadVersion);
  s.step();
  return static_cast<int>(s.i64(0));
}

int SqliteStore::migrate() {
  const int have = schema_version();
  const int want = static_cast<int>(sql::migrations().size());
  live::check_not_newer(have, want, "sqlite:" + db_.path());
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  for (int v = have; v < want; ++v) db_.exec(sql::migrations()[v]);
  db_.exec(sql::set_version(want).c_str());
  tx.commit();
  return want - have;
}

void SqliteStore::require_schema() {
  live::check_schema(schema_version(), static_cast<int>(sql::migrations().size()), "sqlite:" + db_.path());
}

std::int64_t SqliteStore::kind_id(const std::string& name) {
  db_.prepare(sql::kInsertKind).bind(1, name).run();
  auto s = db_.prepare(sql::kKindId);
  s.bind(1, name).step();
  return s.i64(0);
}

void SqliteStore::bind(const Scenario& sc, double time_scale) {
  require_schema();
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  kind_db_.clear();
  kind_sc_.clear();
  tmpl_db_.clear();
  tmpl_sc_.clear();
  for (std::size_t k = 0; k < sc.kinds.size(); ++k) {
    kind_db_.push_back(kind_id(sc.kinds[k].name));
    kind_sc_[kind_db_.back()] = static_cast<int>(k);
  }
  // Unfinished sessions must find their template, with the same steps of the same kinds.
  auto active = db_.prepare(sql::kActiveTemplates);
  while (active.step()) {
    live::StoredTemplate st;
    st.name = active.text(1);
    st.example_session = active.i64(2);
    auto steps = db_.prepare(sql::kStoredStepKinds);
    for (steps.bind(1, active.i64(2)); steps.step();) st.step_kinds.push_back(steps.text(0));
    auto edges = db_.prepare(sql::kStoredEdges);
    for (edges.bind(1, active.i64(2)); edges.step();)
      st.edges.emplace_back(static_cast<int>(edges.i64(0)), static_cast<int>(edges.i64(1)));
    live::check_template(sc, db_.path(), std::move(st));
  }
  for (std::size_t t = 0; t < sc.templates.size(); ++t) {
    const auto& tp = sc.templates[t];
    db_.prepare(sql::kUpsertTemplate).bind(1, tp.name).bind(2, static_cast<std::int64_t>(tp.steps.size())).run();
    auto s = db_.prepare(sql::kTemplateId);
    s.bind(1, tp.name).step();
    tmpl_db_.push_back(s.i64(0));
    tmpl_sc_[s.i64(0)] = static_cast<int>(t);
  }
  seed_capacity(sc);
  tx.commit();

  sc_ = &sc;
  scale_ = time_scale;
  claim_.clear();
  has_ready_.clear();
  for (const auto& p : sc.pools) {
    std::vector<std::int64_t> kinds;
    for (int k : p.kinds) kinds.push_back(kind_db_[k]);
    claim_.push_back(db_.prepare(sql::claim(kinds).c_str()));
    has_ready_.push_back(db_.prepare(sql::has_ready(kinds).c_str()));
  }
  insert_execution_ = db_.prepare(sql::kInsertExecution);
  end_execution_ = db_.prepare(sql::kEndExecution);
  finish_completed_ = db_.prepare(sql::kFinishCompleted);
  has_next_ = db_.prepare(sql::kHasNext);
  activate_next_ = db_.prepare(sql::kActivateNext);
  count_down_session_ = db_.prepare(sql::kCountDownSession);
  count_down_release_ = db_.prepare(sql::kCountDownRelease);
  finish_failed_ = db_.prepare(sql::kFinishFailed);
  finish_wait_ = db_.prepare(sql::kFinishWait);
  deps_left_ = db_.prepare(sql::kDepsLeft);
  next_due_ = db_.prepare(sql::kNextDue);
  promote_ = db_.prepare(sql::kPromote);
}

// The database keeps one state per cluster and storage area, shared by every process. Rows are
// made from the scenario the first time; later they must match it, unless nothing holds any of
// their capacity, when they are made again (a changed cluster, a new database's first run).
void SqliteStore::seed_capacity(const Scenario& sc) {
  for (const ClusterSpec& c : sc.platform.clusters) {
    std::vector<std::pair<double, double>> want;
    for (const auto& g : c.nodes)
      for (int i = 0; i < g.count; ++i) want.emplace_back(g.cores, g.memory_GB);
    std::vector<std::pair<double, double>> have;
    auto q = db_.prepare(sql::kClusterNodes);
    for (q.bind(1, c.name); q.step();) have.emplace_back(q.f64(0), q.f64(1));
    if (have == want) continue;
    auto held = db_.prepare(sql::kClusterHeld);
    held.bind(1, c.name).step();
    if (held.i64(0) > 0)
      throw StoreError(db_.path() + ": cluster '" + c.name + "' has " + std::to_string(have.size()) +
                       " nodes here, sized otherwise than in " + sc.file + ", and " + std::to_string(held.i64(0)) +
                       " sessions hold or wait for its capacity; run with the scenario they were submitted from, "
                       "or cancel them");
    db_.prepare(sql::kDeleteClusterNodes).bind(1, c.name).run();
    auto ins = db_.prepare(sql::kInsertClusterNode);
    for (std::size_t n = 0; n < want.size(); ++n)
      ins.bind(1, c.name).bind(2, static_cast<std::int64_t>(n)).bind(3, want[n].first).bind(4, want[n].second).run();
  }
  for (const StorageArea& a : sc.platform.areas) {
    auto q = db_.prepare(sql::kAreaQuota);
    if (q.bind(1, a.name).step() && q.f64(0) == a.quota_bytes) continue;
    auto held = db_.prepare(sql::kAreaHeld);
    held.bind(1, a.name).step();
    if (held.i64(0) > 0)
      throw StoreError(db_.path() + ": storage area '" + a.name + "' has another quota here than in " + sc.file +
                       ", and " + std::to_string(held.i64(0)) +
                       " reservations in it; use the scenario they were made with");
    db_.prepare(sql::kUpsertArea).bind(1, a.name).bind(2, a.quota_bytes).run();
  }
}

void SqliteStore::notify(const std::vector<int>& pools) {
  if (!on_ready) return;
  for (int p : pools) on_ready(p);
}

// ---- submission -------------------------------------------------------------------------------

std::uint64_t SqliteStore::submit_sessions(std::uint64_t n) {
  std::vector<int> ready;
  std::uint64_t first = 0;
  {
    std::lock_guard lk(mu_);
    if (!sc_) throw std::logic_error("submit_sessions before bind");
    const double now = wall_now();
    WriteTx tx(db_);
    Batch b{db_.prepare(sql::kInsertSession), db_.prepare(sql::kInsertStep), db_.prepare(sql::kInsertEdge)};
    auto next = db_.prepare(sql::kNextSessionId);
    next.step();
    b.next_id = static_cast<std::uint64_t>(next.i64(0));
    auto base = db_.prepare(sql::kNextStepId);
    base.step();
    b.next_step = base.i64(0);
    first = b.next_id;
    for (std::uint64_t i = 0; i < n; ++i) insert_session(now, ready, b);
    tx.commit();
  }
  std::sort(ready.begin(), ready.end());
  ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
  notify(ready);
  return first;
}

std::uint64_t SqliteStore::insert_session(double now, std::vector<int>& ready, Batch& b) {
  const Scenario& sc = *sc_;
  const std::uint64_t id = b.next_id++;
  {
    const std::int64_t base = b.next_step;
    const int t = sc.template_for(id);
    const TemplateSpec& tp = sc.templates[t];
    b.next_step += static_cast<std::int64_t>(tp.steps.size());
    const live::SessionDraws d = live::draw_session(sc, t, id);
    Stmt& ses = b.session;
    ses.bind(1, id)
        .bind(2, tmpl_db_[t])
        .bind(3, static_cast<std::int64_t>(tp.startup_steps))
        .bind(4, static_cast<std::int64_t>(tp.steps.size()) - tp.startup_steps)
        .bind(5, now)
        .bind(6, d.run_s)
        .bind(7, d.owner)
        .bind(9, d.cores)
        .bind(10, d.memory_GB)
        .bind(12, sc.dispatch.dependencies == DispatchSpec::Dependencies::recheck ? 1 : 0);
    if (d.cluster.empty()) ses.bind_null(8);
    else ses.bind(8, d.cluster);
    if (tp.has_release()) ses.bind(11, static_cast<std::int64_t>(tp.startup_steps));
    else ses.bind_null(11);
    ses.run();
    Stmt& ins = b.step;
    for (std::size_t i = 0; i < tp.steps.size(); ++i) {
      const int kind = tp.steps[i].kind;
      const auto [activated, is_ready] = live::initial_step(sc, t, static_cast<int>(i));
      ins.bind(1, base + static_cast<std::int64_t>(i))
          .bind(2, id)
          .bind(3, static_cast<std::int64_t>(i))
          .bind(4, tmpl_db_[t])
          .bind(5, kind_db_[kind])
          .bind(6, db_phase(is_ready ? Phase::READY : Phase::DORMANT))
          .bind(7, static_cast<std::int64_t>(tp.preds(static_cast<int>(i)).size()))
          .bind(8, sc.kinds[kind].retry.max_attempts)
          .bind(9, now);
      if (activated) ins.bind(10, now);
      else ins.bind_null(10);
      if (is_ready) ins.bind(11, now);
      else ins.bind_null(11);
      ins.run();
      if (is_ready) ready.push_back(sc.kinds[kind].pool);
    }
    Stmt& edge = b.edge;
    for (std::size_t i = 0; i < tp.steps.size(); ++i)
      for (int n : tp.succs(static_cast<int>(i)))
        edge.bind(1, base + static_cast<std::int64_t>(i)).bind(2, base + n).run();
  }
  return id;
}

std::int64_t SqliteStore::begin_submission(std::uint64_t planned) {
  std::lock_guard lk(mu_);
  const double now = wall_now();
  WriteTx tx(db_);
  db_.prepare(sql::kBeginSubmission).bind(1, planned).bind(2, now).run();
  const auto id = sqlite3_last_insert_rowid(db_.handle());
  tx.commit();
  return id;
}

void SqliteStore::submission_progress(std::int64_t id, std::uint64_t submitted, bool finished) {
  std::lock_guard lk(mu_);
  const double now = wall_now();
  WriteTx tx(db_);
  auto s = db_.prepare(sql::kSubmissionProgress);
  s.bind(1, id).bind(2, submitted).bind(3, now);
  if (finished) s.bind(4, now);
  else s.bind_null(4);
  s.run();
  tx.commit();
}

// ---- the Queue --------------------------------------------------------------------------------

std::optional<StepRef> SqliteStore::claim(int pool) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  // Read the clock once the write lock is held: a claim takes effect now, after every commit that
  // made its step READY. Read before, a wait for the lock would date it before its step was READY
  // (negative waits) and before the previous execution of the step ended (a false overlap).
  const double now = wall_now();
  Stmt& c = claim_[pool];
  c.bind(1, processor_).bind(2, now);
  if (!c.step()) {
    c.reset();
    return std::nullopt;  // the destructor rolls back: nothing was written
  }
  StepRef r;
  r.id = static_cast<std::uint64_t>(c.i64(0));
  r.fence = static_cast<std::uint64_t>(c.i64(1));
  r.session = static_cast<std::uint64_t>(c.i64(2));
  r.step = static_cast<int>(c.i64(3));
  r.tmpl = tmpl_sc_.at(c.i64(4));
  const std::int64_t kind = c.i64(5);
  r.kind = kind_sc_.at(kind);
  r.attempt = static_cast<int>(c.i64(6));
  const double ready_at = c.f64(7);
  r.ready_at = ready_at / scale_;
  r.activated_at = (c.is_null(8) ? ready_at : c.f64(8)) / scale_;
  while (c.step()) {
  }
  c.reset();
  insert_execution_.bind(1, r.id)
      .bind(2, r.fence)
      .bind(3, kind)
      .bind(4, r.attempt)
      .bind(5, processor_)
      .bind(6, ready_at)
      .bind(7, now)
      .run();
  tx.commit();
  return r;
}

bool SqliteStore::predecessors_done(const StepRef& s) {
  std::lock_guard lk(mu_);
  deps_left_.bind(1, s.id);
  const bool done = deps_left_.step() && deps_left_.i64(0) == 0;
  deps_left_.reset();
  return done;
}

std::uint64_t SqliteStore::end_session(std::int64_t session, const char* phase, const std::string& reason, double now,
                                       std::vector<int>& ready) {
  auto q = db_.prepare(sql::kSessionRelease);
  if (!q.bind(1, session).step()) return 0;
  const bool releases = !q.is_null(0);
  const std::int64_t first_release = releases ? q.i64(0) : INT64_MAX;
  const bool releasing = q.i64(1) != 0;  // its start-up is over: what fails now is a release step
  // The failed step's own group goes: the start-up, or what is left of the release.
  auto cancel = db_.prepare(sql::kCancelRest);
  cancel.bind(1, session).bind(2, now);
  if (releasing) cancel.bind(3, first_release).bind(4, INT64_MAX);
  else cancel.bind(3, 0).bind(4, first_release);
  const auto n = static_cast<std::uint64_t>(cancel.run());
  if (!releases || releasing) {
    // Prepared here, not at bind: `live cancel` runs unbound.
    db_.prepare(sql::kEndSession)
        .bind(1, session)
        .bind(2, std::string(releasing ? "FAILED" : phase))
        .bind(3, now)
        .bind(4, releasing ? "release: " + reason : reason)
        .run();
    return n;
  }
  // It gives back what it had, by its release steps, and ends when they are done.
  db_.prepare(sql::kSessionOutcome).bind(1, session).bind(2, std::string(phase)).bind(3, reason).run();
  start_release(session, now, now, ready);
  return n;
}

void SqliteStore::start_release(std::int64_t session, double now, double at, std::vector<int>& ready) {
  auto q = db_.prepare(sql::kStartRelease);
  q.bind(1, session).bind(2, now).bind(3, at);
  while (q.step())
    if (at <= now && sc_)
      if (auto k = kind_sc_.find(q.i64(0)); k != kind_sc_.end()) ready.push_back(sc_->kinds[k->second].pool);
}

bool SqliteStore::finish(const StepRef& s, const Outcome& o) {
  std::vector<int> ready;
  std::optional<double> waiting_until;
  bool applied = false;
  {
    std::lock_guard lk(mu_);
    const double now = wall_now();
    WriteTx tx(db_);
    const char* outcome = "completed";
    switch (o.type) {
      case Outcome::Type::completed:
        applied = finish_completed_.bind(1, s.id).bind(2, s.fence).bind(3, now).run() == 1;
        if (!applied) break;
        has_next_.bind(1, s.id);
        if (has_next_.step() && has_next_.i64(0) != 0) {  // a last step has none: no UPDATE
          has_next_.reset();
          activate_next_.bind(1, s.id).bind(2, now);
          while (activate_next_.step())
            if (activate_next_.i64(1) == db_phase(Phase::READY) && activate_next_.i64(2) == 0)
              ready.push_back(sc_->kinds[kind_sc_.at(activate_next_.i64(0))].pool);
          activate_next_.reset();
        }
        has_next_.reset();
        if (s.step >= sc_->templates[s.tmpl].startup_steps) {
          count_down_release_.bind(1, s.session).bind(2, now).run();
        } else if (count_down_session_.bind(1, s.session).bind(2, now).step()) {
          // The last start-up step: a session with release steps runs run_s from when it was
          // Running (else from now), and then gives back what it had.
          const bool started = count_down_session_.i64(0) == 0 && count_down_session_.i64(1) > 0;
          const double from = count_down_session_.is_null(2) ? now : count_down_session_.f64(2);
          const double run = count_down_session_.f64(3);
          while (count_down_session_.step()) {
          }
          count_down_session_.reset();
          if (started) {
            const double at = live::release_at(now, from, run, scale_);
            start_release(static_cast<std::int64_t>(s.session), now, at, ready);
            if (at > now) waiting_until = at;
          }
        } else {
          count_down_session_.reset();
        }
        break;
      case Outcome::Type::failed:
        outcome = "failed";
        applied = finish_failed_.bind(1, s.id).bind(2, s.fence).bind(3, now).bind(4, o.reason).run() == 1;
        if (applied) end_session(static_cast<std::int64_t>(s.session), "FAILED", o.reason, now, ready);
        break;
      case Outcome::Type::wait: {
        outcome = o.next_attempt ? "retry" : "requeue";
        const double due = now + o.delay_s * scale_;
        finish_wait_.bind(1, s.id).bind(2, s.fence).bind(3, due).bind(4, o.next_attempt ? 1 : 0);
        if (o.reason.empty()) finish_wait_.bind_null(5);
        else finish_wait_.bind(5, o.reason);
        applied = finish_wait_.run() == 1;
        if (applied) waiting_until = due;
        break;
      }
    }
    end_execution_.bind(1, s.id).bind(2, s.fence).bind(3, now).bind(4, std::string(applied ? outcome : "lost"));
    if (o.reason.empty()) end_execution_.bind_null(5);
    else end_execution_.bind(5, o.reason);
    end_execution_.run();
    tx.commit();
  }
  notify(ready);
  if (waiting_until && on_waiting) on_waiting(*waiting_until);
  return applied;
}

// ---- processors, reaper, promoter ----------------------------------------------------------------

std::int64_t SqliteStore::insert_processor() {
  const double now = wall_now();
  db_.prepare(sql::kInsertProcessor).bind(1, host_).bind(2, pid_).bind(3, pools_).bind(4, now).run();
  return sqlite3_last_insert_rowid(db_.handle());
}

std::int64_t SqliteStore::register_processor(const std::string& host, std::int64_t pid, const std::string& pools) {
  std::lock_guard lk(mu_);
  host_ = host;
  pid_ = pid;
  pools_ = pools;
  WriteTx tx(db_);
  const std::int64_t id = insert_processor();
  tx.commit();
  processor_ = id;  // only once committed: see heartbeat()
  return processor_;
}

bool SqliteStore::heartbeat() {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  const bool alive = db_.prepare(sql::kHeartbeat).bind(1, processor_).bind(2, wall_now()).run() == 1;
  // Declared dead: our old claims are fenced off, and we go on as a new processor. Taken as ours
  // only once committed: a failed commit gives the id back (the next rowid), the next processor to
  // register gets it, and a store still holding it would heartbeat, claim and stop as that one.
  const std::int64_t id = alive ? processor_ : insert_processor();
  tx.commit();
  processor_ = id;
  return alive;
}

int SqliteStore::reap(double lease_s) {
  std::vector<int> ready;
  int n = 0;
  {
    std::lock_guard lk(mu_);
    const double now = wall_now();
    WriteTx tx(db_);
    char why[80];
    std::snprintf(why, sizeof why, "no heartbeat for %g s", lease_s);
    const int died = db_.prepare(sql::kDeclareDead).bind(1, now).bind(2, std::string(why)).bind(3, lease_s).run();
    auto orphans = db_.prepare(sql::kOrphans);
    struct Orphan {
      std::int64_t id, fence, attempt, max_attempts, session, kind;
      std::string who;
    };
    std::vector<Orphan> found;
    while (orphans.step())
      found.push_back({orphans.i64(0), orphans.i64(1), orphans.i64(2), orphans.i64(3), orphans.i64(4), orphans.i64(5),
                       "processor " + std::to_string(orphans.i64(6)) + " (" + orphans.text(7) + " pid " +
                           std::to_string(orphans.i64(8)) + ")"});
    for (const auto& o : found) {
      const std::string reason = o.who + " stopped while running attempt " + std::to_string(o.attempt);
      end_execution_.bind(1, o.id).bind(2, o.fence).bind(3, now).bind(4, std::string("reaped")).bind(5, reason).run();
      // Only a step still RUNNING moves: reaping an earlier orphan of the same session may have
      // failed the session and CANCELLED this one, and CANCELLED is final.
      if (o.attempt >= o.max_attempts) {
        const std::string final_reason =
            reason + "; no attempts left (max_attempts " + std::to_string(o.max_attempts) + ")";
        if (db_.prepare(sql::kFailOrphan).bind(1, o.id).bind(2, now).bind(3, final_reason).run() == 1)
          end_session(o.session, "FAILED", final_reason, now, ready);
      } else if (db_.prepare(sql::kRetryOrphan).bind(1, o.id).bind(2, now).bind(3, reason).run() == 1) {
        if (sc_) {
          auto k = kind_sc_.find(o.kind);
          if (k != kind_sc_.end()) ready.push_back(sc_->kinds[k->second].pool);
        }
      }
      ++n;
    }
    // The executions of processors found dead just now whose steps were CANCELLED while they ran
    // them (their session failed or was cancelled): no finish will come to close them. A scan of
    // the execution log, but only when a processor has died.
    if (died > 0) db_.prepare(sql::kReapCancelled).bind(1, now).run();
    tx.commit();
  }
  notify(ready);
  return n;
}

std::optional<double> SqliteStore::promote() {
  std::vector<int> ready;
  std::optional<double> next;
  {
    std::lock_guard lk(mu_);
    const double now = wall_now();
    next_due_.step();
    const bool any = !next_due_.is_null(0);
    const double due = next_due_.f64(0);
    next_due_.reset();
    if (any && due <= now) {
      WriteTx tx(db_);
      promote_.bind(1, now);
      while (promote_.step()) {
        auto k = kind_sc_.find(promote_.i64(0));
        if (k != kind_sc_.end()) ready.push_back(sc_->kinds[k->second].pool);
      }
      promote_.reset();
      tx.commit();
      next_due_.step();
      if (!next_due_.is_null(0)) next = next_due_.f64(0);
      next_due_.reset();
    } else if (any) {
      next = due;
    }
  }
  std::sort(ready.begin(), ready.end());
  ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
  notify(ready);
  return next;
}

live::LiveStore::Elsewhere SqliteStore::changes_elsewhere() {
  std::lock_guard lk(mu_);
  Elsewhere e;
  const auto v = db_.data_version();
  if (v == last_data_version_) return e;
  last_data_version_ = v;
  e.any = e.waiting = true;
  for (auto& s : has_ready_) {
    e.ready.push_back(s.step() && s.i64(0) != 0);
    s.reset();
  }
  return e;
}

bool SqliteStore::idle(double lease_s) {
  std::lock_guard lk(mu_);
  auto s = db_.prepare(sql::kIdle);
  s.bind(1, wall_now() - lease_s).step();
  return s.i64(0) == 0;
}

int SqliteStore::release_running() {
  std::lock_guard lk(mu_);
  const double now = wall_now();
  WriteTx tx(db_);
  db_.prepare(sql::kReleaseExecutions).bind(1, processor_).bind(2, now).run();
  const int n = db_.prepare(sql::kReleaseSteps).bind(1, processor_).bind(2, now).run();
  // Steps CANCELLED while this processor ran them (their session failed or was cancelled): their
  // finish, which would have recorded the dropped result as 'lost', will not come now.
  db_.prepare(sql::kReleaseCancelled).bind(1, processor_).bind(2, now).run();
  tx.commit();
  return n;
}

void SqliteStore::stop_processor(const std::string& reason) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  db_.prepare(sql::kStopProcessor).bind(1, processor_).bind(2, wall_now()).bind(3, reason).run();
  tx.commit();
}

// ---- operator commands ---------------------------------------------------------------------------

live::CancelResult SqliteStore::cancel_session(std::uint64_t id) {
  require_schema();
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  auto q = db_.prepare(sql::kSessionPhase);
  if (!q.bind(1, id).step())
    throw StoreError(db_.path() + ": no session " + std::to_string(id) + " (see `stepq live status`)");
  live::CancelResult r;
  r.phase = q.text(0);
  if (r.phase != "ACTIVE") {
    r.what = live::CancelResult::What::already_finished;
    return r;
  }
  auto o = db_.prepare(sql::kSessionReleasing);
  o.bind(1, id).step();
  if (o.i64(0) != 0) {  // already giving back what it had: its release runs to its end
    r.what = live::CancelResult::What::already_finished;
    r.phase = "ACTIVE (releasing)";
    return r;
  }
  const double now = wall_now();
  std::vector<int> ready;
  r.steps = end_session(static_cast<std::int64_t>(id), "CANCELLED", "cancelled by an operator", now, ready);
  tx.commit();
  auto p = db_.prepare(sql::kSessionPhase);
  p.bind(1, id).step();
  r.phase = p.text(0) == "ACTIVE" ? "ACTIVE (releasing, then CANCELLED)" : p.text(0);
  notify(ready);
  return r;
}

namespace {
// One read transaction: every read in it sees one snapshot, so that counts add up.
class Snapshot {
 public:
  explicit Snapshot(Db& db) : db_(db) { db_.exec("BEGIN"); }
  Snapshot(const Snapshot&) = delete;
  ~Snapshot() {
    try {
      db_.exec("COMMIT");
    } catch (...) {  // a read-only transaction: nothing to lose
    }
  }

 private:
  Db& db_;
};

class StmtRows final : public live::Rows {
 public:
  explicit StmtRows(Stmt s) : s_(std::move(s)) {}
  bool next() override { return s_.step(); }
  std::int64_t i64(int c) const override { return s_.i64(c); }
  double f64(int c) const override { return s_.f64(c); }
  bool null(int c) const override { return s_.is_null(c); }
  std::string text(int c) const override { return s_.text(c); }

 private:
  Stmt s_;
};
}  // namespace

void SqliteStore::read_snapshot(const SnapshotRead& read, bool) {
  std::lock_guard lk(mu_);
  Snapshot snapshot(db_);
  read([&](const std::string& sql) { return std::make_unique<StmtRows>(db_.prepare(sql.c_str())); }, wall_now(), false);
}

void SqliteStore::record_forecast(const std::vector<live::ForecastRecord>& rows) {
  require_schema();
  if (rows.empty()) return;
  std::lock_guard lk(mu_);
  const std::string sealed_before = std::to_string(wall_now() - status_options.seal_after_s);
  db_.exec(live::forecast_insert_sql(rows, sealed_before).c_str());  // one statement: one transaction
}

void SqliteStore::fold_status() {
  SqliteStore other(db_.path(), false);
  other.status_options = status_options;
  other.status();
}

bool SqliteStore::write_status_cache(std::int64_t generation, const std::string& summary) {
  std::lock_guard lk(mu_);
  return db_.prepare(sql::kWriteStatusCache).bind(1, summary).bind(2, generation).run() > 0;
}

// ---- Capacity: clusters and storage areas, shared by every process ---------------------------------

void SqliteStore::admit(const std::string& cluster, double now) {
  const int c = sc_->platform.cluster_index(cluster);
  if (c < 0) return;
  std::vector<std::pair<double, double>> free;
  auto nodes = db_.prepare(sql::kFreeNodes);
  for (nodes.bind(1, cluster); nodes.step();) free.emplace_back(nodes.f64(0), nodes.f64(1));
  std::vector<ClusterState::Request> queue;
  auto q = db_.prepare(sql::kQueuedSessions);
  for (q.bind(1, cluster); q.step();)
    queue.push_back({static_cast<std::uint64_t>(q.i64(0)), q.f64(1), q.f64(2), static_cast<std::uint64_t>(q.i64(3))});
  if (queue.empty()) return;
  ClusterState state(sc_->platform.clusters[c], free, std::move(queue));
  const auto placed = state.admit();
  if (placed.empty()) return;
  auto place = db_.prepare(sql::kPlaceSession);
  for (const auto& p : placed) place.bind(1, p.id).bind(2, p.node).bind(3, now).run();
  auto node = db_.prepare(sql::kSetNodeFree);
  for (std::size_t n = 0; n < state.nodes(); ++n)
    if (state.free_cores(static_cast<int>(n)) != free[n].first ||
        state.free_memory_GB(static_cast<int>(n)) != free[n].second)
      node.bind(1, cluster)
          .bind(2, static_cast<std::int64_t>(n))
          .bind(3, state.free_cores(static_cast<int>(n)))
          .bind(4, state.free_memory_GB(static_cast<int>(n)))
          .run();
}

OpResult SqliteStore::submit(const StepContext& c) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  const double now = wall_now();
  auto q = db_.prepare(sql::kSessionCluster);
  if (!q.bind(1, c.ref.session).step() || q.i64(0) != 0 || q.is_null(1)) return {};  // submitted before
  const std::string cluster = q.text(1);
  const std::int64_t owner = q.i64(2);
  const ClusterSpec& spec = sc_->platform.clusters[sc_->platform.cluster_index(cluster)];
  if (spec.user_limit > 0) {
    auto held = db_.prepare(sql::kUserHeld);
    held.bind(1, cluster).bind(2, owner).step();
    if (held.i64(0) >= spec.user_limit) return {false, false, user_limit_refusal(spec), 0};
  }
  db_.prepare(sql::kQueueSession).bind(1, c.ref.session).bind(2, now).run();
  admit(cluster, now);
  tx.commit();
  return {};
}

Capacity::Compute SqliteStore::compute(const StepContext& c) {
  std::lock_guard lk(mu_);
  auto q = db_.prepare(sql::kSessionCompute);
  Compute r;
  if (!q.bind(1, c.ref.session).step() || q.is_null(0)) return r;
  r.submitted = true;
  r.submitted_at = q.f64(1) / scale_;
  if (q.text(0) == "placed" || !q.is_null(2)) r.admitted_at = q.f64(2) / scale_;
  return r;
}

void SqliteStore::running(const StepContext& c, double at) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  db_.prepare(sql::kSessionRunning).bind(1, c.ref.session).bind(2, at * scale_).run();
  tx.commit();
}

void SqliteStore::release_compute(const StepContext& c) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  auto q = db_.prepare(sql::kSessionRequest);
  if (!q.bind(1, c.ref.session).step() || q.is_null(0) || q.text(0) == "released") return;
  const std::string cluster = q.text(1);
  if (q.text(0) == "placed")
    db_.prepare(sql::kGiveBackNode).bind(1, cluster).bind(2, q.i64(2)).bind(3, q.f64(3)).bind(4, q.f64(4)).run();
  db_.prepare(sql::kReleaseSession).bind(1, c.ref.session).run();
  admit(cluster, wall_now());
  tx.commit();
}

bool SqliteStore::reserve(const StepContext& c) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  auto have = db_.prepare(sql::kHaveReservation);
  if (have.bind(1, c.ref.session).bind(2, c.ref.step).step()) return true;  // reserved before (a repeated step)
  const StorageArea& area = sc_->platform.areas[c.step.area];
  if (db_.prepare(sql::kTakeBytes).bind(1, area.name).bind(2, c.step.bytes).run() == 0) return false;
  db_.prepare(sql::kInsertReservation)
      .bind(1, c.ref.session)
      .bind(2, c.ref.step)
      .bind(3, area.name)
      .bind(4, c.step.bytes)
      .bind(5, c.step.mount == Mount::write_temp ? 1 : 0)
      .run();
  tx.commit();
  return true;
}

void SqliteStore::free_temp(const StepContext& c) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  db_.prepare(sql::kFreeTemp).bind(1, c.ref.session).run();
  db_.prepare(sql::kDeleteTemp).bind(1, c.ref.session).run();
  tx.commit();
}

// ---- The emulated platform's network, shared by every process ---------------------------------------

void SqliteStore::with_links(const std::function<void(FluidLinks&)>& f) {
  std::lock_guard lk(mu_);
  WriteTx tx(db_);
  auto clock = db_.prepare(sql::kLinkClock);
  clock.step();
  auto next = db_.prepare(sql::kNextTransferId);
  next.step();
  std::vector<FluidLinks::Transfer> open;
  for (auto q = db_.prepare(sql::kOpenTransfers); q.step();) {
    FluidLinks::Transfer x;
    x.id = q.i64(0);
    x.session = q.i64(1);
    x.step = static_cast<int>(q.i64(2));
    x.attempt = static_cast<int>(q.i64(3));
    x.route = static_cast<int>(q.i64(4));
    x.bytes = q.f64(5);
    x.left = q.f64(6);
    x.phase = static_cast<FluidLinks::Phase>(q.i64(7));
    x.at = q.f64(8);
    x.held = static_cast<int>(q.i64(9));
    x.arrived_at = q.is_null(10) ? 0 : q.f64(10);
    x.started_at = q.is_null(11) ? -1 : q.f64(11);
    open.push_back(x);
  }
  FluidLinks net(sc_->platform, scale_, clock.f64(0), std::move(open), next.i64(0));
  f(net);
  auto add = db_.prepare(sql::kAddTransfer);
  auto change = db_.prepare(sql::kChangeTransfer);
  bool changed = false;
  for (const auto& x : net.transfers()) {
    if (!x.changed) continue;
    changed = true;
    Stmt& s = x.added ? add : change;
    s.bind(1, x.id).bind(7, x.left).bind(8, static_cast<int>(x.phase)).bind(9, x.at).bind(10, x.held);
    if (x.added)
      s.bind(2, x.session)
          .bind(3, x.step)
          .bind(4, x.attempt)
          .bind(5, x.route)
          .bind(6, x.bytes)
          .bind(13, live::link_names(sc_->platform, x.route));
    if (x.phase == FluidLinks::Phase::delayed) s.bind_null(11);
    else s.bind(11, x.arrived_at);
    if (x.started_at < 0) s.bind_null(12);
    else s.bind(12, x.started_at);
    s.run();
    s.reset();
  }
  if (!changed) return;  // nothing moved: no commit, so other processes see no change to look at
  db_.prepare(sql::kSetLinkClock).bind(1, net.clock()).run();
  tx.commit();
}

}  // namespace stepq::sqlite
