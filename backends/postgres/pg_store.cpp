#include "pg_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <thread>

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

namespace stepq::pg {

using live::db_phase;
using live::StoreError;
using live::wall_now;

namespace {

// BEGIN … COMMIT on one connection; rolls back on the way out unless committed (a connection
// that is gone needs nothing: the server rolled back).
class Tx {
 public:
  explicit Tx(Conn& c) : c_(c) { c_.exec("BEGIN"); }
  ~Tx() {
    if (open_ && c_.ok()) try {
        c_.exec("ROLLBACK");
      } catch (...) {
      }
  }
  void commit() {
    open_ = false;
    c_.exec("COMMIT");
  }

 private:
  Conn& c_;
  bool open_ = true;
};

std::string int_array(const std::vector<std::int64_t>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + '}';
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// A string as an SQL literal, quoted by libpq (for statements sent as text, several at once).
std::string literal(Conn& c, const std::string& s) {
  char* q = PQescapeLiteral(c.raw(), s.c_str(), s.size());
  if (!q) throw PgError(std::string("cannot quote a string: ") + PQerrorMessage(c.raw()), "");
  std::string out = q;
  PQfreemem(q);
  return out;
}

std::string database_name(const std::string& url) {
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), nullptr);
  std::string db;
  if (opts) {
    for (auto* o = opts; o->keyword; ++o)
      if (std::string(o->keyword) == "dbname" && o->val) db = o->val;
    PQconninfoFree(opts);
  }
  return db;
}

}  // namespace

PgStore::PgStore(const std::string& url, bool create) : pool_(url, redact(url)), beat_pool_(url, redact(url)) {
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &err);
  if (!parsed) {
    std::string why = err ? err : "not a connection URL";
    if (err) PQfreemem(err);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw StoreError("--db " + redact(url) + ": " + why + " (expected postgresql://USER@HOST:PORT/DATABASE)");
  }
  PQconninfoFree(parsed);
  try {
    pool_.get();  // reach the server now: a wrong URL is the first thing to report
  } catch (const ConnLost& e) {
    const std::string msg = e.what();
    const std::string db = database_name(url);
    if (create && msg.find("does not exist") != std::string::npos && !db.empty()) {
      // live init: create the database, through the server's maintenance database.
      const char* keys[] = {"dbname", "dbname", nullptr};
      const char* vals[] = {url.c_str(), "postgres", nullptr};
      PGconn* c = PQconnectdbParams(keys, vals, 1);
      if (PQstatus(c) != CONNECTION_OK) {
        std::string why = PQerrorMessage(c);
        PQfinish(c);
        while (!why.empty() && why.back() == '\n') why.pop_back();
        throw StoreError(msg + "; creating it needs a connection to database 'postgres': " + why);
      }
      char* ident = PQescapeIdentifier(c, db.c_str(), db.size());
      PGresult* r = PQexec(c, sql::create_database(ident).c_str());
      PQfreemem(ident);
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      std::string why = ok ? "" : PQresultErrorMessage(r);
      const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      const bool raced = st && std::string(st) == "42P04";  // another init created it meanwhile
      PQclear(r);
      PQfinish(c);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      if (!ok && !raced) throw StoreError(msg + "; creating it failed: " + why);
      try {
        pool_.get();
      } catch (const ConnLost& e2) {
        throw StoreError(e2.what());
      }
    } else if (msg.find("does not exist") != std::string::npos) {
      throw StoreError(msg + "; create it with `stepq live init --db " + pool_.label() + "`");
    } else {
      throw StoreError(msg + "; is the server running, and is the URL right? (postgresql://USER@HOST:PORT/DATABASE)");
    }
  }
  std::random_device rd;
  token_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) & 0x3fffffffffffffffULL;
}

PgStore::~PgStore() = default;

void PgStore::lost(const std::string& why) {
  pool_.drop_idle();
  beat_pool_.drop_idle();
  std::lock_guard lk(lost_mu_);
  const double now = wall_now();
  if (now - lost_at_ > 5) {
    unrecorded_reconnects_++;
    std::fprintf(stderr, "stepq: lost the database connection (%s); reconnecting\n", why.c_str());
  }
  lost_at_ = now;
}

template <class F>
auto PgStore::with_conn(const char* what, F&& f, Pool* pool) {
  bool in_doubt = false;
  const double start = wall_now();
  double backoff = 0.05;
  static thread_local std::mt19937 jitter{std::random_device{}()};
  for (;;) {
    try {
      auto c = (pool ? *pool : pool_).get();
      try {
        return f(*c, in_doubt);
      } catch (const ConnLost&) {
        c.broken();
        throw;
      }
    } catch (const ConnLost& e) {
      in_doubt = true;
      lost(e.what());
      if (wall_now() - start > reconnect_limit_s)
        throw StoreError(std::string(what) + ": no database connection for " + num(reconnect_limit_s) +
                         " s: " + e.what());
    } catch (const Retry&) {
      // Deadlock (e.g. a session failing while another of its steps completes): PostgreSQL rolled
      // one back; run it again after a moment.
    }
    std::uniform_real_distribution<double> u(0.5, 1.5);
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff * u(jitter)));
    backoff = std::min(backoff * 2, 2.0);
  }
}

int PgStore::schema_version() {
  return with_conn("schema", [&](Conn& c, bool) {
    auto r = c.exec(sql::kHasMeta);
    if (r.text(0, 0) != "t") return 0;
    auto v = c.exec(sql::kReadVersion);
    return v.rows() ? static_cast<int>(v.i64(0, 0)) : 0;
  });
}

int PgStore::migrate() {
  const int want = static_cast<int>(sql::migrations().size());
  return with_conn("migrate", [&](Conn& c, bool) {
    Tx tx(c);
    c.exec(sql::lock_migrate());
    c.exec(sql::kCreateMeta);
    auto v = c.exec(sql::kReadVersion);
    const int have = v.rows() ? static_cast<int>(v.i64(0, 0)) : 0;
    live::check_not_newer(have, want, pool_.label());
    for (int k = have; k < want; ++k) c.exec(sql::migrations()[k]);
    if (v.rows()) c.exec(sql::update_version(want));
    else c.exec(sql::insert_version(want));
    tx.commit();
    return want - have;
  });
}

void PgStore::require_schema() {
  live::check_schema(schema_version(), static_cast<int>(sql::migrations().size()), pool_.label());
}

void PgStore::bind(const Scenario& sc, double time_scale) {
  require_schema();
  with_conn("bind", [&](Conn& c, bool) {
    Tx tx(c);
    kind_db_.clear();
    kind_sc_.clear();
    tmpl_db_.clear();
    tmpl_sc_.clear();
    for (std::size_t k = 0; k < sc.kinds.size(); ++k) {
      const Params p = Params().add(sc.kinds[k].name);
      c.exec(sql::kInsertKind, p);
      kind_db_.push_back(c.exec(sql::kKindId, p).i64(0, 0));
      kind_sc_[kind_db_.back()] = static_cast<int>(k);
    }
    auto active = c.exec(sql::kActiveTemplates);
    for (int i = 0; i < active.rows(); ++i) {
      live::StoredTemplate st;
      st.name = active.text(i, 0);
      st.example_session = active.i64(i, 1);
      const Params p = Params().add(active.i64(i, 1));
      auto steps = c.exec(sql::kStoredStepKinds, p);
      for (int r = 0; r < steps.rows(); ++r) st.step_kinds.push_back(steps.text(r, 0));
      auto edges = c.exec(sql::kStoredEdges, p);
      for (int r = 0; r < edges.rows(); ++r)
        st.edges.emplace_back(static_cast<int>(edges.i64(r, 0)), static_cast<int>(edges.i64(r, 1)));
      live::check_template(sc, pool_.label(), std::move(st));
    }
    for (std::size_t t = 0; t < sc.templates.size(); ++t) {
      const auto& tp = sc.templates[t];
      auto r = c.exec(sql::kUpsertTemplate, Params().add(tp.name).add(static_cast<std::int64_t>(tp.steps.size())));
      tmpl_db_.push_back(r.i64(0, 0));
      tmpl_sc_[r.i64(0, 0)] = static_cast<int>(t);
    }
    seed_capacity(c, sc);
    tx.commit();
    return 0;
  });
  sc_ = &sc;
  scale_ = time_scale;
  pool_kinds_.clear();
  pool_kind_ids_.clear();
  pool_claim_.clear();
  claim_sql_.clear();
  for (const auto& p : sc.pools) {
    std::vector<std::int64_t> kinds;
    for (int k : p.kinds) kinds.push_back(kind_db_[k]);
    pool_kinds_.push_back(int_array(kinds));
    pool_kind_ids_.push_back(kinds);
    pool_claim_.push_back(kinds.size() == 1 ? std::to_string(kinds[0]) : int_array(kinds));
    claim_sql_.push_back(sql::claim(kinds.size() > 1));
  }
}

// As SqliteStore::seed_capacity: rows made from the scenario when missing, and made again only
// while nothing holds their capacity.
void PgStore::seed_capacity(Conn& c, const Scenario& sc) {
  for (const ClusterSpec& cl : sc.platform.clusters) {
    std::vector<std::pair<double, double>> want;
    for (const auto& g : cl.nodes)
      for (int i = 0; i < g.count; ++i) want.emplace_back(g.cores, g.memory_GB);
    std::vector<std::pair<double, double>> have;
    auto r = c.exec(sql::kClusterNodes, Params().add(cl.name));
    for (int i = 0; i < r.rows(); ++i) have.emplace_back(r.f64(i, 0), r.f64(i, 1));
    if (have == want) continue;
    const auto held = c.exec(sql::kClusterHeld, Params().add(cl.name)).i64(0, 0);
    if (held > 0)
      throw StoreError(pool_.label() + ": cluster '" + cl.name + "' has " + std::to_string(have.size()) +
                       " nodes here, sized otherwise than in " + sc.file + ", and " + std::to_string(held) +
                       " sessions hold or wait for its capacity; run with the scenario they were submitted from, "
                       "or cancel them");
    c.exec(sql::kDeleteClusterNodes, Params().add(cl.name));
    std::string rows;
    for (std::size_t n = 0; n < want.size(); ++n)
      rows += (n ? ",(" : "(") + std::to_string(n) + "," + num(want[n].first) + "," + num(want[n].second) + ")";
    c.exec(sql::insert_cluster_nodes(rows), Params().add(cl.name));
  }
  for (const StorageArea& a : sc.platform.areas) {
    auto r = c.exec(sql::kAreaQuota, Params().add(a.name));
    if (r.rows() && r.f64(0, 0) == a.quota_bytes) continue;
    if (c.exec(sql::kAreaHeld, Params().add(a.name)).i64(0, 0) > 0)
      throw StoreError(pool_.label() + ": storage area '" + a.name + "' has another quota here than in " + sc.file +
                       ", and reservations in it; use the scenario they were made with");
    c.exec(sql::kUpsertArea, Params().add(a.name).add(a.quota_bytes));
  }
}

void PgStore::notify(const std::vector<int>& pools) {
  if (!on_ready) return;
  for (int p : pools) on_ready(p);
}

std::vector<std::int64_t> PgStore::kinds_in(const Result& r, int col) {
  std::vector<std::int64_t> kinds;
  for (int i = 0; i < r.rows(); ++i)
    if (!r.null(i, col)) kinds.push_back(r.i64(i, col));
  return kinds;
}

std::vector<std::int64_t> PgStore::all_kinds() const {
  std::vector<std::int64_t> out;
  for (const auto& [db_id, sc_index] : kind_sc_) out.push_back(db_id);
  return out;
}

std::vector<int> PgStore::made_ready(const std::vector<std::int64_t>& kinds) {
  std::vector<int> out;
  if (kinds.empty()) return out;
  {
    std::lock_guard lk(notify_mu_);
    unsent_.insert(unsent_.end(), kinds.begin(), kinds.end());
  }
  if (!sc_) return out;
  for (auto kind : kinds) {
    auto k = kind_sc_.find(kind);
    if (k != kind_sc_.end()) out.push_back(sc_->kinds[k->second].pool);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ---- submission -------------------------------------------------------------------------------

std::uint64_t PgStore::submit_sessions(std::uint64_t n) {
  if (!sc_) throw std::logic_error("submit_sessions before bind");
  // Up to kChunk sessions a transaction: four round trips (BEGIN, the ids under the submitters'
  // lock, the rows, COMMIT) for each chunk, not for each session.
  constexpr std::uint64_t kChunk = 256;
  std::uint64_t first = 0;
  for (std::uint64_t done = 0; done < n;) {
    const std::uint64_t k = std::min(kChunk, n - done);
    const std::uint64_t id = submit_chunk(k);
    if (done == 0) first = id;
    done += k;
  }
  return first;
}

std::uint64_t PgStore::submit_chunk(std::uint64_t k) {
  const Scenario& sc = *sc_;
  const auto token = static_cast<std::int64_t>(token_.fetch_add(k));  // the chunk's sessions: token + j
  std::vector<int> ready;
  const std::uint64_t id = with_conn("submit", [&](Conn& c, bool in_doubt) -> std::uint64_t {
    ready.clear();
    if (in_doubt) {  // did the try whose connection dropped commit? (all of the chunk, or none)
      auto r = c.exec(sql::kSessionByToken, Params().add(token));
      if (r.rows()) {
        // Its NOTIFY went out with the commit, to the other processes; this one's pools learn
        // what became READY only from here: wake them all.
        for (std::size_t p = 0; p < sc.pools.size(); ++p) ready.push_back(static_cast<int>(p));
        return static_cast<std::uint64_t>(r.i64(0, 0));
      }
    }
    Tx tx(c);
    auto ids = c.exec(sql::next_ids());
    const auto first_sid = static_cast<std::uint64_t>(ids.i64(0, 0));
    std::int64_t base = ids.i64(0, 1);
    std::string text;
    std::vector<std::int64_t> ready_kinds;
    for (std::uint64_t j = 0; j < k; ++j) {
      const std::uint64_t sid = first_sid + j;
      const int t = sc.template_for(sid);
      const TemplateSpec& tp = sc.templates[t];
      const std::string now = sql::kTransactionStart;
      const live::SessionDraws d = live::draw_session(sc, t, sid);
      text += sql::insert_session(
          std::to_string(sid) + "," + std::to_string(tmpl_db_[t]) + ",'ACTIVE'," + std::to_string(tp.startup_steps) +
          "," + std::to_string(tp.steps.size() - tp.startup_steps) + "," +
          (tp.has_release() ? std::to_string(tp.startup_steps) : "NULL") + "," +
          (sc.dispatch.dependencies == DispatchSpec::Dependencies::recheck ? "true" : "false") + "," + now + "," +
          std::to_string(token + static_cast<std::int64_t>(j)) + "," + num(d.run_s) + "," + std::to_string(d.owner) +
          "," + (d.cluster.empty() ? std::string("NULL") : literal(c, d.cluster)) + "," + num(d.cores) + "," +
          num(d.memory_GB));
      std::string rows, edges;
      for (std::size_t i = 0; i < tp.steps.size(); ++i) {
        const int kind = tp.steps[i].kind;
        const auto [activated, is_ready] = live::initial_step(sc, t, static_cast<int>(i));
        rows += (i ? ",(" : "(") + std::to_string(base + static_cast<std::int64_t>(i)) + "," + std::to_string(sid) +
                "," + std::to_string(i) + "," + std::to_string(tmpl_db_[t]) + "," + std::to_string(kind_db_[kind]) +
                "," + std::to_string(db_phase(is_ready ? Phase::READY : Phase::DORMANT)) + "," +
                std::to_string(tp.preds(static_cast<int>(i)).size()) + "," +
                std::to_string(sc.kinds[kind].retry.max_attempts) + "," + now + "," + (activated ? now : "NULL") + "," +
                (is_ready ? now : "NULL") + ")";
        if (is_ready) {
          ready.push_back(sc.kinds[kind].pool);
          ready_kinds.push_back(kind_db_[kind]);
        }
        for (int n : tp.succs(static_cast<int>(i)))
          edges += (edges.empty() ? "(" : ",(") + std::to_string(base + static_cast<std::int64_t>(i)) + "," +
                   std::to_string(base + n) + ")";
      }
      text += sql::insert_steps(rows);
      if (!edges.empty()) text += sql::insert_edges(edges);
      base += static_cast<std::int64_t>(tp.steps.size());
    }
    std::sort(ready_kinds.begin(), ready_kinds.end());
    ready_kinds.erase(std::unique(ready_kinds.begin(), ready_kinds.end()), ready_kinds.end());
    for (auto kd : ready_kinds) text += sql::notify_ready(kd);
    c.exec(text);
    tx.commit();
    return first_sid;
  });
  std::sort(ready.begin(), ready.end());
  ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
  notify(ready);
  return id;
}

std::int64_t PgStore::begin_submission(std::uint64_t planned) {
  return with_conn("submit",
                   [&](Conn& c, bool) { return c.exec(sql::kBeginSubmission, Params().add(planned)).i64(0, 0); });
}

void PgStore::submission_progress(std::int64_t id, std::uint64_t submitted, bool finished) {
  with_conn("submit", [&](Conn& c, bool) {
    c.exec(sql::kSubmissionProgress, Params().add(id).add(submitted).add(finished ? "true" : "false"));
    return 0;
  });
}

// ---- the Queue --------------------------------------------------------------------------------

StepRef PgStore::step_ref(const Result& r, int i) {
  StepRef s;
  s.id = static_cast<std::uint64_t>(r.i64(i, 0));
  s.fence = static_cast<std::uint64_t>(r.i64(i, 1));
  s.session = static_cast<std::uint64_t>(r.i64(i, 2));
  s.step = static_cast<int>(r.i64(i, 3));
  s.tmpl = tmpl_sc_.at(r.i64(i, 4));
  s.kind = kind_sc_.at(r.i64(i, 5));
  s.attempt = static_cast<int>(r.i64(i, 6));
  const double ready_at = r.f64(i, 7);
  s.ready_at = ready_at / scale_;
  s.activated_at = (r.null(i, 8) ? ready_at : r.f64(i, 8)) / scale_;
  return s;
}

std::optional<StepRef> PgStore::claim(int pool) {
  const std::int64_t token = static_cast<std::int64_t>(token_++);
  const std::int64_t me = processor_.load();
  return with_conn("claim", [&](Conn& c, bool in_doubt) -> std::optional<StepRef> {
    if (in_doubt) {
      auto r = c.run("claimed_by_token", sql::kClaimedByToken, Params().add(me).add(token));
      if (r.rows()) return step_ref(r, 0);
    }
    auto r = c.run(("claim" + std::to_string(pool)).c_str(), claim_sql_[pool],
                   Params().add(pool_claim_[pool]).add(me).add(token));
    if (!r.rows() && pool_kind_ids_[pool].size() > 1) {
      // A pool of several kinds looks at each kind's oldest 64 READY steps (sql::claim): with
      // more claimers than that, all of them may be locked while more are READY. Then each kind's
      // index is walked to its first unlocked step, kind by kind.
      static const std::string one_kind = sql::claim(false);
      for (const std::int64_t k : pool_kind_ids_[pool]) {
        r = c.run("claim_kind", one_kind, Params().add(k).add(me).add(token));
        if (r.rows()) break;
      }
    }
    if (!r.rows()) return std::nullopt;
    return step_ref(r, 0);
  });
}

bool PgStore::predecessors_done(const StepRef& s) {
  return with_conn("recheck", [&](Conn& c, bool) {
    auto r = c.run("deps_left", sql::kDepsLeft, Params().add(s.id));
    return r.rows() && r.i64(0, 0) == 0;
  });
}

std::uint64_t PgStore::end_session(Conn& c, std::int64_t session, const char* phase, const std::string& reason,
                                   std::vector<std::int64_t>& kinds) {
  auto q = c.run("session_release", sql::kSessionRelease, Params().add(session));
  if (!q.rows()) return 0;
  const bool releases = !q.null(0, 0);
  const std::int64_t first_release = releases ? q.i64(0, 0) : 2147483647;
  const bool releasing = q.text(0, 1) == "t";  // its start-up is over: what fails now is a release step
  // The failed step's own group goes: the start-up, or what is left of the release.
  const auto n =
      c.run("cancel_rest", sql::kCancelRest,
            Params().add(session).add(releasing ? first_release : 0).add(releasing ? 2147483647 : first_release))
          .affected();
  if (!releases || releasing) {
    c.run("end_session", sql::kEndSession,
          Params().add(session).add(releasing ? "FAILED" : phase).add(releasing ? "release: " + reason : reason));
    return static_cast<std::uint64_t>(n);
  }
  // It gives back what it had, by its release steps, and ends when they are done.
  c.run("session_outcome", sql::kSessionOutcome, Params().add(session).add(phase).add(reason));
  auto k = c.run("start_release", sql::kStartRelease, Params().add(session));
  for (int i = 0; i < k.rows(); ++i) kinds.push_back(k.i64(i, 0));
  return static_cast<std::uint64_t>(n);
}

bool PgStore::finish(const StepRef& s, const Outcome& o) {
  std::vector<int> ready;
  std::optional<double> waiting_until;
  const bool applied = with_conn("finish", [&](Conn& c, bool in_doubt) -> bool {
    ready.clear();
    waiting_until.reset();
    if (in_doubt) {  // the execution row was closed by the same commit, if there was one
      auto r = c.run("execution_outcome", sql::kExecutionOutcome, Params().add(s.id).add(s.fence));
      if (r.rows() && !r.null(0, 0)) {
        const std::string out = r.text(0, 0);
        const bool counted = out != "lost" && out != "reaped" && out != "released";
        // What it made READY, or WAITING until when, went with the lost answer: wake every pool
        // here and elsewhere, and the promoter, rather than leave them to the fallback poll.
        if (counted) {
          ready = made_ready(all_kinds());
          waiting_until = live::wall_now();
        }
        return counted;
      }
    }
    const std::string reason = o.reason;
    switch (o.type) {
      case Outcome::Type::completed: {
        Params p = Params().add(s.id).add(s.fence).add(scale_);
        if (reason.empty()) p.null();
        else p.add(reason);
        auto r = c.run("complete", sql::kComplete, p);
        ready = made_ready(kinds_in(r, 1));
        if (r.rows() > 0 && !r.null(0, 2)) waiting_until = r.f64(0, 2);  // a release waits for the session's end
        return r.rows() > 0 && r.i64(0, 0) == 1;
      }
      case Outcome::Type::failed: {
        Tx tx(c);
        auto r = c.run("fail", sql::kFail, Params().add(s.id).add(s.fence).add(reason));
        const bool ok = r.rows() == 1;
        std::vector<std::int64_t> kinds;
        if (ok) end_session(c, r.i64(0, 0), "FAILED", reason, kinds);
        Params p = Params().add(s.id).add(s.fence).add(ok ? "failed" : "lost");
        if (reason.empty()) p.null();
        else p.add(reason);
        c.run("end_execution", sql::kEndExecution, p);
        tx.commit();
        ready = made_ready(kinds);
        return ok;
      }
      case Outcome::Type::wait: {
        Params p = Params().add(s.id).add(s.fence).add(o.delay_s * scale_).add(o.next_attempt ? 1 : 0);
        if (reason.empty()) p.null();
        else p.add(reason);
        p.add(o.next_attempt ? "retry" : "requeue");
        auto r = c.run("wait", sql::kWait, p);
        if (r.rows() && !r.null(0, 0)) {
          waiting_until = r.f64(0, 0);
          return true;
        }
        return false;
      }
    }
    return false;
  });
  notify(ready);
  if (waiting_until && on_waiting) on_waiting(*waiting_until);
  return applied;
}

// ---- processors, reaper, promoter ----------------------------------------------------------------

std::int64_t PgStore::insert_processor(Conn& c) {
  return c.exec(sql::kInsertProcessor, Params().add(host_).add(pid_).add(pools_)).i64(0, 0);
}

std::int64_t PgStore::register_processor(const std::string& host, std::int64_t pid, const std::string& pools) {
  host_ = host;
  pid_ = pid;
  pools_ = pools;
  processor_ = with_conn("register", [&](Conn& c, bool) { return insert_processor(c); });
  return processor_;
}

bool PgStore::heartbeat() {
  std::uint64_t reconnects;
  {
    std::lock_guard lk(lost_mu_);
    reconnects = unrecorded_reconnects_;
  }
  const bool alive = with_conn(
      "heartbeat",
      [&](Conn& c, bool) {
        const bool ok =
            c.run("heartbeat", sql::kHeartbeat, Params().add(processor_.load()).add(reconnects)).affected() == 1;
        if (!ok) processor_ = insert_processor(c);  // declared dead: our old claims are fenced off
        return ok;
      },
      &beat_pool_);
  std::lock_guard lk(lost_mu_);
  unrecorded_reconnects_ -= std::min(unrecorded_reconnects_, alive ? reconnects : 0);
  return alive;
}

int PgStore::reap(double lease_s) {
  std::vector<int> ready;
  const int n = with_conn("reaper", [&](Conn& c, bool) {
    ready.clear();
    Tx tx(c);
    if (c.exec(sql::try_lock_reaper()).text(0, 0) != "t") return 0;  // another process reaps this turn
    const std::string why = "no heartbeat for " + num(lease_s) + " s";
    auto died = c.exec(sql::kDeclareDead, Params().add(why).add(lease_s));
    auto orphans = c.exec(sql::kOrphans);
    int count = 0;
    std::vector<std::int64_t> kinds;
    for (int i = 0; i < orphans.rows(); ++i) {
      const std::int64_t id = orphans.i64(i, 0), fence = orphans.i64(i, 1), attempt = orphans.i64(i, 2),
                         max_attempts = orphans.i64(i, 3), session = orphans.i64(i, 4);
      const std::string reason = "processor " + orphans.text(i, 6) + " (" + orphans.text(i, 7) + " pid " +
                                 orphans.text(i, 8) + ") stopped while running attempt " + std::to_string(attempt);
      c.run("end_execution", sql::kEndExecution, Params().add(id).add(fence).add("reaped").add(reason));
      // Guarded by the fence: an earlier orphan of the same session may have failed the session
      // and CANCELLED this one, and CANCELLED is final.
      if (attempt >= max_attempts) {
        const std::string final_reason =
            reason + "; no attempts left (max_attempts " + std::to_string(max_attempts) + ")";
        if (c.exec(sql::kFailOrphan, Params().add(id).add(fence).add(final_reason)).affected() == 1)
          end_session(c, session, "FAILED", final_reason, kinds);
      } else if (c.exec(sql::kRetryOrphan, Params().add(id).add(fence).add(reason)).affected() == 1) {
        kinds.push_back(orphans.i64(i, 5));
      }
      ++count;
    }
    // Executions of processors found dead just now whose steps were CANCELLED while they ran
    // them: no finish will come to close them.
    for (int i = 0; i < died.rows(); ++i) c.exec(sql::kReapCancelled, Params().add(died.i64(i, 0)));
    ready = made_ready(kinds);
    tx.commit();
    return count;
  });
  notify(ready);
  return n;
}

std::optional<double> PgStore::promote() {
  std::vector<int> ready;
  const auto next = with_conn("promoter", [&](Conn& c, bool) -> std::optional<double> {
    ready.clear();
    auto due = c.run("next_due", sql::kNextDue, Params());
    if (due.null(0, 0)) return std::nullopt;
    if (due.f64(0, 0) > due.f64(0, 1)) return due.f64(0, 0);
    ready = made_ready(kinds_in(c.run("promote", sql::kPromote, Params()), 0));
    auto again = c.run("next_due", sql::kNextDue, Params());
    if (again.null(0, 0)) return std::nullopt;
    return again.f64(0, 0);
  });
  notify(ready);
  return next;
}

live::LiveStore::Elsewhere PgStore::changes_elsewhere() {
  Elsewhere e;
  const double now = wall_now();
  if (!sc_) return e;
  e.ready.assign(sc_->pools.size(), false);
  bool everything = false;
  if (!listen_ || !listen_->ok()) {
    listen_.reset();
    if (now >= listen_retry_at_) {
      try {
        listen_ = std::make_unique<Conn>(pool_.url(), pool_.label());
        listen_->exec(sql::kListen);
        everything = true;  // notifications sent while nobody listened are gone: look at the tables
      } catch (const PgError&) {
        listen_.reset();
        listen_retry_at_ = now + 0.5;
      }
    }
  }
  if (listen_) flush_notifications();
  if (listen_) {
    if (!PQconsumeInput(listen_->raw())) {
      listen_.reset();
      listen_retry_at_ = now;
      everything = true;
    } else {
      std::unordered_set<int> ours;
      bool have_ours = false;
      while (PGnotify* n = PQnotifies(listen_->raw())) {
        if (!have_ours) {
          ours = pool_.backend_pids();
          ours.insert(listen_->backend_pid());
          have_ours = true;
        }
        if (!ours.count(n->be_pid)) {  // our own commits already woke our pools
          auto k = kind_sc_.find(std::strtoll(n->extra, nullptr, 10));
          if (k != kind_sc_.end()) {
            e.ready[sc_->kinds[k->second].pool] = true;
            e.any = true;
          }
        }
        PQfreemem(n);
      }
    }
  }
  if (now >= next_fallback_) {
    next_fallback_ = now + fallback_poll_s;
    everything = true;
  }
  if (everything) {
    e.any = e.waiting = true;
    with_conn("promoter", [&](Conn& c, bool) {
      for (std::size_t p = 0; p < pool_kinds_.size(); ++p)
        if (c.run(("has_ready" + std::to_string(p)).c_str(), sql::kHasReady, Params().add(pool_kinds_[p])).text(0, 0) ==
            "t")
          e.ready[p] = true;
      return 0;
    });
  }
  return e;
}

void PgStore::flush_notifications() {
  std::vector<std::int64_t> kinds;
  {
    std::lock_guard lk(notify_mu_);
    kinds.swap(unsent_);
  }
  if (kinds.empty()) return;
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  const std::string arr = int_array(kinds);
  try {
    if (listen_ && listen_->ok()) {
      listen_->run("notify", sql::kNotify, Params().add(arr));
      return;
    }
    with_conn("notify", [&](Conn& c, bool) { return c.run("notify", sql::kNotify, Params().add(arr)).rows(); });
  } catch (const ConnLost&) {
    // Others will find the steps on their fallback poll.
  }
}

bool PgStore::idle(double lease_s) {
  return with_conn("idle",
                   [&](Conn& c, bool) { return c.run("idle", sql::kIdle, Params().add(lease_s)).text(0, 0) == "t"; });
}

int PgStore::release_running() {
  return with_conn("release", [&](Conn& c, bool) {
    Tx tx(c);
    const Params me = Params().add(processor_.load());
    c.exec(sql::kReleaseExecutions, me);
    const int n = static_cast<int>(c.exec(sql::kReleaseSteps, me).rows());
    c.exec(sql::kReleaseCancelled, me);
    if (n > 0) c.exec(sql::kNotifyAll);
    tx.commit();
    return n;
  });
}

void PgStore::stop_processor(const std::string& reason) {
  with_conn("stop", [&](Conn& c, bool) {
    c.exec(sql::kStopProcessor, Params().add(processor_.load()).add(reason));
    return 0;
  });
}

// ---- operator commands ---------------------------------------------------------------------------

live::CancelResult PgStore::cancel_session(std::uint64_t id) {
  require_schema();
  return with_conn("cancel", [&](Conn& c, bool in_doubt) {
    Tx tx(c);
    auto q = c.exec(sql::kLockSessionPhase, Params().add(id));
    if (!q.rows())
      throw StoreError(pool_.label() + ": no session " + std::to_string(id) + " (see `stepq live status`)");
    live::CancelResult r;
    r.phase = q.text(0, 0);
    if (in_doubt) {  // the connection went with the COMMIT's answer: this call may have cancelled it
      auto done = c.exec(sql::kCancelledByOperator, Params().add(id));
      if (done.text(0, 0) == "t") {
        r.steps = static_cast<std::uint64_t>(done.i64(0, 1));
        if (r.phase == "ACTIVE") r.phase = "ACTIVE (releasing, then CANCELLED)";
        return r;
      }
    }
    if (r.phase != "ACTIVE") {
      r.what = live::CancelResult::What::already_finished;
      return r;
    }
    if (c.exec(sql::kSessionReleasing, Params().add(id)).text(0, 0) == "t") {
      r.what = live::CancelResult::What::already_finished;  // already giving back what it had
      r.phase = "ACTIVE (releasing)";
      return r;
    }
    std::vector<std::int64_t> kinds;
    r.steps = end_session(c, static_cast<std::int64_t>(id), "CANCELLED", "cancelled by an operator", kinds);
    for (auto k : kinds) c.exec(sql::kNotifyKind, Params().add(std::to_string(k)));
    tx.commit();
    r.phase = c.exec(sql::kSessionPhase, Params().add(id)).text(0, 0);
    if (r.phase == "ACTIVE") r.phase = "ACTIVE (releasing, then CANCELLED)";
    return r;
  });
}

namespace {
// One read-only transaction that sees one snapshot.
class Snapshot {
 public:
  explicit Snapshot(Conn& c) : c_(c) { c_.exec(sql::kBeginSnapshot); }
  Snapshot(const Snapshot&) = delete;
  ~Snapshot() {
    if (c_.ok()) try {
        c_.exec("COMMIT");
      } catch (...) {
      }
  }

 private:
  Conn& c_;
};

class ResultRows final : public live::Rows {
 public:
  explicit ResultRows(Result r) : r_(std::move(r)) {}
  bool next() override { return ++row_ < r_.rows(); }
  std::int64_t i64(int c) const override { return r_.i64(row_, c); }
  double f64(int c) const override { return r_.f64(row_, c); }
  bool null(int c) const override { return r_.null(row_, c); }
  std::string text(int c) const override { return r_.text(row_, c); }

 private:
  Result r_;
  int row_ = -1;
};

// A query read through a cursor (sql::declare_cursor), inside the caller's transaction.
class CursorRows final : public live::Rows {
 public:
  CursorRows(Conn& c, const std::string& query, int n) : c_(c), name_("stepq_rows_" + std::to_string(n)) {
    c_.exec(sql::declare_cursor(name_, query));
  }
  bool next() override {
    if (r_ && ++row_ < r_->rows()) return true;
    if (done_) return false;
    r_ = c_.exec(sql::fetch(name_));
    row_ = 0;
    done_ = r_->rows() < sql::kFetchRows;
    return r_->rows() > 0;
  }
  std::int64_t i64(int c) const override { return r_->i64(row_, c); }
  double f64(int c) const override { return r_->f64(row_, c); }
  bool null(int c) const override { return r_->null(row_, c); }
  std::string text(int c) const override { return r_->text(row_, c); }

 private:
  Conn& c_;
  std::string name_;
  std::optional<Result> r_;
  int row_ = -1;
  bool done_ = false;
};
}  // namespace

void PgStore::read_snapshot(const SnapshotRead& read, bool stream) {
  with_conn("read", [&](Conn& c, bool again) {
    Snapshot snapshot(c);
    const double now = c.exec(sql::kNow).f64(0, 0);
    int n = 0;
    read(
        [&](const std::string& query) -> std::unique_ptr<live::Rows> {
          if (stream) return std::make_unique<CursorRows>(c, query, n++);
          return std::make_unique<ResultRows>(c.exec(query));
        },
        now, again);
  });
}

void PgStore::record_forecast(const std::vector<live::ForecastRecord>& rows) {
  require_schema();
  if (rows.empty()) return;
  // One statement, so one transaction; run again after a lost reply, it adds nothing twice.
  const std::string sealed_before = "stepq_now() - " + std::to_string(status_options.seal_after_s);
  with_conn("record forecast", [&](Conn& c, bool) { c.exec(live::forecast_insert_sql(rows, sealed_before)); });
}

bool PgStore::write_status_cache(std::int64_t generation, const std::string& summary) {
  // Run again after a lost reply, it finds the generation moved on: false, and the summary stands.
  return with_conn("status cache", [&](Conn& c, bool) {
    return c.run("status_cache", sql::kWriteStatusCache, Params().add(summary).add(generation)).affected() > 0;
  });
}

// ---- Capacity: clusters and storage areas, shared by every process ---------------------------------
// Admission runs on the server (stepq_submit, stepq_release: sql/schema.cpp), one statement each.
// Every operation is idempotent, so a run again after a lost connection repeats nothing.

OpResult PgStore::submit(const StepContext& ctx) {
  const TemplateSpec& tp = sc_->templates[ctx.ref.tmpl];
  const ClusterSpec& spec = sc_->platform.clusters[tp.session->cluster];
  const bool fifo = spec.admission == ClusterSpec::Admission::fifo;
  const bool ok = with_conn("submit compute", [&](Conn& c, bool) {
    return c.run("submit", sql::kSubmitCompute,
                 Params().add(ctx.ref.session).add(spec.user_limit).add(fifo ? "true" : "false"))
               .text(0, 0) == "t";
  });
  if (ok) return {};
  return {false, false, user_limit_refusal(spec), 0};
}

Capacity::Compute PgStore::compute(const StepContext& ctx) {
  return with_conn("poll compute", [&](Conn& c, bool) {
    auto q = c.run("compute", sql::kSessionCompute, Params().add(ctx.ref.session));
    Compute r;
    if (!q.rows() || q.null(0, 0)) return r;
    r.submitted = true;
    r.submitted_at = q.f64(0, 1) / scale_;
    if (!q.null(0, 2)) r.admitted_at = q.f64(0, 2) / scale_;
    return r;
  });
}

void PgStore::running(const StepContext& ctx, double at) {
  with_conn("running", [&](Conn& c, bool) {
    c.run("running", sql::kSessionRunning, Params().add(ctx.ref.session).add(at * scale_));
    return 0;
  });
}

void PgStore::release_compute(const StepContext& ctx) {
  const ClusterSpec& spec = sc_->platform.clusters[sc_->templates[ctx.ref.tmpl].session->cluster];
  with_conn("delete compute", [&](Conn& c, bool) {
    c.run("release", sql::kReleaseCompute,
          Params().add(ctx.ref.session).add(spec.admission == ClusterSpec::Admission::fifo ? "true" : "false"));
    return 0;
  });
}

// One statement each (one round trip, one commit): a storage step pays for its reservation, and
// the twin test sees it in the storage kind's waits.
bool PgStore::reserve(const StepContext& ctx) {
  const StorageArea& area = sc_->platform.areas[ctx.step.area];
  return with_conn("reserve", [&](Conn& c, bool) {
    return c.run("reserve", sql::kReserve,
                 Params()
                     .add(ctx.ref.session)
                     .add(ctx.ref.step)
                     .add(area.name)
                     .add(ctx.step.bytes)
                     .add(ctx.step.mount == Mount::write_temp ? "true" : "false"))
               .text(0, 0) == "t";
  });
}

void PgStore::free_temp(const StepContext& ctx) {
  with_conn("free", [&](Conn& c, bool) {
    c.run("free_temp", sql::kFreeTemp, Params().add(ctx.ref.session));
    return 0;
  });
}

// ---- The emulated platform's network, shared by every process ---------------------------------------
// Run again after a lost connection it repeats nothing: advancing to a later time is the same
// advance, and adding a step's transfer again finds the one it added (or, once that is done, the
// insert below conflicts and is dropped).

void PgStore::with_links(const std::function<void(FluidLinks&)>& f) {
  with_conn("links", [&](Conn& c, bool) {
    Tx tx(c);
    const double clock = c.run("link_clock", sql::kLockLinkClock, Params()).f64(0, 0);
    const std::int64_t next = c.run("link_next", sql::kNextTransferId, Params()).i64(0, 0);
    auto q = c.run("links_open", sql::kOpenTransfers, Params());
    std::vector<FluidLinks::Transfer> open;
    for (int i = 0; i < q.rows(); ++i) {
      FluidLinks::Transfer x;
      x.id = q.i64(i, 0);
      x.session = q.i64(i, 1);
      x.step = static_cast<int>(q.i64(i, 2));
      x.attempt = static_cast<int>(q.i64(i, 3));
      x.route = static_cast<int>(q.i64(i, 4));
      x.bytes = q.f64(i, 5);
      x.left = q.f64(i, 6);
      x.phase = static_cast<FluidLinks::Phase>(q.i64(i, 7));
      x.at = q.f64(i, 8);
      x.held = static_cast<int>(q.i64(i, 9));
      x.arrived_at = q.null(i, 10) ? 0 : q.f64(i, 10);
      x.started_at = q.null(i, 11) ? -1 : q.f64(i, 11);
      open.push_back(x);
    }
    FluidLinks net(sc_->platform, scale_, clock, std::move(open), next);
    f(net);
    // Every changed row in one statement: arrays of columns, one round trip however many moved.
    std::string ids, left, phase, at, held, arrived, started;
    auto cell = [](std::string& a, const std::string& v) { a += (a.empty() ? "" : ",") + v; };
    auto num = [](double v) {
      char b[40];
      std::snprintf(b, sizeof b, "%.17g", v);
      return std::string(b);
    };
    for (const auto& x : net.transfers()) {
      if (x.added)
        c.run("link_add", sql::kAddTransfer,
              Params().add(x.id).add(x.session).add(x.step).add(x.attempt).add(x.route).add(x.bytes).add(x.at).add(
                  live::link_names(sc_->platform, x.route)));
      if (!x.changed) continue;
      cell(ids, std::to_string(x.id));
      cell(left, num(x.left));
      cell(phase, std::to_string(static_cast<int>(x.phase)));
      cell(at, num(x.at));
      cell(held, std::to_string(x.held));
      cell(arrived, x.phase == FluidLinks::Phase::delayed ? "NULL" : num(x.arrived_at));
      cell(started, x.started_at < 0 ? "NULL" : num(x.started_at));
    }
    if (ids.empty()) return 0;  // nothing moved: the transaction rolls back
    auto arr = [](const std::string& a) { return "{" + a + "}"; };
    c.run("links_save", sql::kSaveTransfers,
          Params()
              .add(arr(ids))
              .add(arr(left))
              .add(arr(phase))
              .add(arr(at))
              .add(arr(held))
              .add(arr(arrived))
              .add(arr(started)));
    c.run("link_clock_set", sql::kSetLinkClock, Params().add(net.clock()));
    tx.commit();
    return 0;
  });
}

}  // namespace stepq::pg
