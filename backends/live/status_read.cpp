// `stepq live status` (DESIGN §9, "live status in bounded memory"): the summary of sealed
// sessions (status_summary.hpp), plus the rows of the sessions and transfers it does not cover,
// plus what is never sealed (processors, submissions, READY steps now). Rows beyond the frontier
// that are sealed now are summed apart (`fresh`), so that the summary can move on with them.
#include <algorithm>
#include <map>
#include <optional>

#include "phase_sql.hpp"
#include "status_summary.hpp"
#include "store_status.hpp"

namespace stepq::live {

namespace {

std::optional<double> maybe(const Rows& r, int c) { return r.null(c) ? std::nullopt : std::optional<double>(r.f64(c)); }

std::string id_list(const std::vector<std::int64_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

// The rows of column `col` a summary at `f` does not cover. All of them (no summary yet): no
// condition, so that SQLite scans the tables in order rather than through the session index.
std::string beyond(const Frontier& f, const std::string& col) {
  if (f.frontier < 0 && f.open.empty()) return "1 = 1";
  std::string s = "(" + col + " > " + std::to_string(f.frontier);
  if (!f.open.empty()) s += " OR " + col + " IN (" + id_list(f.open) + ")";
  return s + ")";
}

// 1 for the rows a summary at `f` covers and the one at `before` does not, else 0.
std::string folded(const Frontier& before, const Frontier& f, const std::string& col) {
  if (f.frontier == before.frontier && f.open == before.open) return "0";
  std::string s = "CASE WHEN " + col + " <= " + std::to_string(f.frontier);
  if (!f.open.empty()) s += " AND " + col + " NOT IN (" + id_list(f.open) + ")";
  return s + " THEN 1 ELSE 0 END";
}

// How far a summary at `f` can move: `sealed_sql` reads (id, 1 if sealed) of the ids beyond it,
// ascending. The open ids that are sealed now leave the list; the frontier moves past every
// sealed id until the list would hold more than `open_max`. Returns how many ids it newly covers.
std::uint64_t advance(const Query& query, const std::string& sealed_sql, Frontier& f, std::size_t open_max) {
  std::uint64_t newly = 0;
  Frontier to{f.frontier, {}};
  if (!f.open.empty())
    for (auto q = query(sealed_sql + " WHERE id IN (" + id_list(f.open) + ") ORDER BY id"); q->next();) {
      if (q->i64(1)) newly++;
      else to.open.push_back(q->i64(0));
    }
  std::vector<std::int64_t> pending;  // not sealed, beyond the last sealed one seen
  for (auto q = query(sealed_sql + " WHERE id > " + std::to_string(f.frontier) + " ORDER BY id"); q->next();) {
    if (!q->i64(1)) {
      pending.push_back(q->i64(0));
      if (to.open.size() + pending.size() > open_max) break;
      continue;
    }
    to.open.insert(to.open.end(), pending.begin(), pending.end());
    pending.clear();
    to.frontier = q->i64(0);
    newly++;
  }
  f = std::move(to);
  return newly;
}

}  // namespace

StatusRead read_status(const Query& query, double db_now, const StatusOptions& opt) {
  const double now = opt.now.value_or(db_now);
  std::vector<std::int64_t> kind_ids;
  std::vector<std::string> kind_names;
  for (auto q = query("SELECT id, name FROM kind ORDER BY id"); q->next();) {
    kind_ids.push_back(q->i64(0));
    kind_names.push_back(q->text(1));
  }
  std::map<std::int64_t, std::size_t> kind_row;
  for (std::size_t k = 0; k < kind_ids.size(); ++k) kind_row[kind_ids[k]] = k;

  // The summary, or none (no cache wanted, none yet, unreadable): then everything is summed.
  std::optional<std::int64_t> generation;
  std::optional<StatusSummary> cache;
  if (opt.use_cache)
    for (auto q = query("SELECT generation, summary FROM status_cache WHERE id = 1"); q->next();) {
      generation = q->i64(0);
      cache = parse_summary(q->text(1), kind_ids, kind_names, now);
    }
  const bool had_cache = cache.has_value();
  if (!cache) cache = StatusSummary{{}, {0, {}}, blank_status(kind_names, now)};

  // Sealed: ended before now − margin, and nothing left to write to its rows. A COMPLETED
  // session's executions all ended (each step completed under its last claim, earlier claims were
  // reaped or released); a FAILED or CANCELLED one's cancelled steps may still run, their
  // executions open until they finish or are reaped. Its transfers are summed by transfer, below:
  // a zombie's step may still start one.
  Frontier sessions = cache->sessions, transfers = cache->transfers;
  std::uint64_t newly = 0;
  if (generation) {
    const std::string sealed =
        "SELECT id, CASE WHEN phase = 'ACTIVE' OR finished_at IS NULL OR finished_at >= " +
        std::to_string(now - opt.seal_after_s) +
        " THEN 0 WHEN phase = 'COMPLETED' THEN 1 WHEN EXISTS (SELECT 1 FROM step st JOIN execution e ON "
        "e.step = st.id WHERE st.session = session.id AND e.ended_at IS NULL) THEN 0 ELSE 1 END FROM session";
    newly += advance(query, sealed, sessions, opt.open_max);
    const std::string done = "SELECT id, CASE WHEN phase = " STEPQ_SQL_TRANSFER_DONE " THEN 1 ELSE 0 END FROM transfer";
    newly += advance(query, done, transfers, opt.open_max);
  }
  std::optional<std::int64_t> write;
  if (generation && (newly >= opt.fold_min || (!had_cache && newly > 0))) write = generation;
  else sessions = cache->sessions, transfers = cache->transfers;  // not worth a write: all read as live

  LiveStatus fresh = blank_status(kind_names, now), live = blank_status(kind_names, now);
  const auto part = [&](const Rows& r, int c) -> LiveStatus& { return r.i64(c) ? fresh : live; };
  const std::string s_beyond = beyond(cache->sessions, "id"), s_fold = folded(cache->sessions, sessions, "id");
  for (auto q = query("SELECT phase, count(*), " + s_fold + " FROM session WHERE " + s_beyond + " GROUP BY 1, 3");
       q->next();)
    for (auto& [phase, n] : part(*q, 2).sessions)
      if (phase == q->text(0)) n += static_cast<std::uint64_t>(q->i64(1));
  const std::string st_beyond = beyond(cache->sessions, "session"),
                    st_fold = folded(cache->sessions, sessions, "session");
  for (auto q =
           query("SELECT kind, phase, count(*), " + st_fold + " FROM step WHERE " + st_beyond + " GROUP BY 1, 2, 4");
       q->next();)
    part(*q, 3).kinds[kind_row.at(q->i64(0))].steps[static_cast<std::size_t>(q->i64(1))] +=
        static_cast<std::uint64_t>(q->i64(2));
  // Beyond a summary, the executions of the steps of the sessions beyond it (a join, through the
  // session index). Every row (no summary yet, or none to write): the execution log alone, in its
  // order, as fast as before; what is newly sealed then is what is not a step of a session left
  // out (the exceptions and the sessions after the last sealed one: a small set, looked up by
  // the step's id).
  std::string executions = "SELECT kind, ready_at, started_at, ended_at, coalesce(outcome, ''), ";
  if (cache->sessions.frontier >= 0 || !cache->sessions.open.empty())
    executions = "SELECT e.kind, e.ready_at, e.started_at, e.ended_at, coalesce(e.outcome, ''), " +
                 folded(cache->sessions, sessions, "st.session") +
                 " FROM execution e JOIN step st ON st.id = e.step WHERE " + beyond(cache->sessions, "st.session");
  else if (folded(cache->sessions, sessions, "session") != "0")
    executions += "CASE WHEN step IN (SELECT id FROM step WHERE " + beyond(sessions, "session") +
                  ") THEN 0 ELSE 1 END FROM execution";
  else executions += "0 FROM execution";
  for (auto q = query(executions); q->next();)
    add_execution(part(*q, 5), kind_row.at(q->i64(0)), q->f64(1), q->f64(2), maybe(*q, 3), q->text(4));
  for (auto q = query("SELECT kind, ready_at FROM step WHERE phase = " STEPQ_SQL_READY); q->next();)
    add_ready(live, kind_row.at(q->i64(0)), q->f64(1));
  for (auto q = query("SELECT started_at - created_at, " + s_fold + " FROM session WHERE started_at IS NOT NULL AND " +
                      s_beyond);
       q->next();)
    part(*q, 1).startup_s.add(std::max(0.0, q->f64(0)));
  for (auto q = query("SELECT reason, count(*), " + s_fold + " FROM session WHERE phase = 'FAILED' AND " + s_beyond +
                      " GROUP BY 1, 3");
       q->next();)
    part(*q, 2).failure_reasons.emplace_back(q->text(0), static_cast<std::uint64_t>(q->i64(1)));
  for (auto q =
           query("SELECT links, phase, bytes, arrived_at, started_at, at, " +
                 folded(cache->transfers, transfers, "id") + " FROM transfer WHERE " + beyond(cache->transfers, "id"));
       q->next();)
    add_transfer(part(*q, 6), q->text(0), static_cast<int>(q->i64(1)), q->f64(2), maybe(*q, 3), maybe(*q, 4),
                 q->f64(5));
  for (auto q = query("SELECT s.created_at, s.started_at, f.p50_at, f.p95_at, f.queue_blind_s * f.time_scale, " +
                      folded(cache->sessions, sessions, "f.session") +
                      " FROM forecast f JOIN session s ON s.id = f.session WHERE s.started_at IS NOT NULL AND " +
                      beyond(cache->sessions, "f.session"));
       q->next();) {
    const double created = q->f64(0), observed = q->f64(1) - created;
    auto& f = part(*q, 5).forecasts;
    f.count++;
    if (!q->null(3) && q->f64(1) <= q->f64(3)) f.within_p95++;
    if (!q->null(2) && q->f64(2) > created) f.vs_p50.push_back(observed / (q->f64(2) - created));
    if (q->f64(4) > 0) f.vs_queue_blind.push_back(observed / q->f64(4));
  }

  StatusRead out;
  LiveStatus& st = out.status;
  st = std::move(cache->sealed);
  merge_status(st, fresh);
  if (write) {
    StatusSummary next{sessions, transfers, st};
    out.cache_write = std::make_pair(*write, summary_text(next, kind_ids));
  }
  merge_status(st, live);
  keep_top_reasons(st);
  drop_unused_kinds(st);
  for (auto q = query("SELECT p.id, p.host, p.pid, p.pools, p.started_at, p.heartbeat_at, p.stopped_at, "
                      "coalesce(p.stop_reason, ''), (SELECT count(*) FROM step s WHERE s.phase = " STEPQ_SQL_RUNNING
                      " AND s.processor = p.id), p.reconnects FROM processor p ORDER BY p.id");
       q->next();) {
    LiveStatus::Processor p;
    p.id = q->i64(0);
    p.host = q->text(1);
    p.pid = q->i64(2);
    p.pools = q->text(3);
    p.started_at = q->f64(4);
    p.heartbeat_at = q->f64(5);
    p.stopped_at = maybe(*q, 6);
    p.stop_reason = q->text(7);
    p.running = static_cast<std::uint64_t>(q->i64(8));
    p.reconnects = static_cast<std::uint64_t>(q->i64(9));
    st.processors.push_back(std::move(p));
  }
  // A submission that stopped heartbeating for 10 s died: it is not running any more.
  for (auto q = query("SELECT count(*) FROM submission WHERE finished_at IS NULL AND heartbeat_at > " +
                      std::to_string(now - 10));
       q->next();)
    st.submissions_active = static_cast<std::uint64_t>(q->i64(0));
  return out;
}

}  // namespace stepq::live
