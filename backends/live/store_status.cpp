#include "store_status.hpp"

#include <algorithm>
#include <map>

#include "core/phase.hpp"

namespace stepq::live {

namespace {
std::string phase_sql(Phase p) { return std::to_string(static_cast<int>(p)); }
std::optional<double> maybe(const Rows& r, int c) { return r.null(c) ? std::nullopt : std::optional<double>(r.f64(c)); }
}  // namespace

LiveStatus read_status(const Query& query, double now) {
  LiveStatus st;
  st.now = now;
  std::map<std::string, std::uint64_t> by_phase{{"ACTIVE", 0}, {"COMPLETED", 0}, {"FAILED", 0}, {"CANCELLED", 0}};
  for (auto q = query("SELECT phase, count(*) FROM session GROUP BY phase"); q->next();)
    by_phase[q->text(0)] = static_cast<std::uint64_t>(q->i64(1));
  for (const char* p : {"ACTIVE", "COMPLETED", "FAILED", "CANCELLED"}) st.sessions.emplace_back(p, by_phase[p]);

  std::map<std::int64_t, std::size_t> kind_row;
  for (auto q = query("SELECT id, name FROM kind ORDER BY id"); q->next();) {
    kind_row[q->i64(0)] = st.kinds.size();
    st.kinds.push_back({});
    st.kinds.back().name = q->text(1);
  }
  for (auto q = query("SELECT kind, phase, count(*) FROM step GROUP BY kind, phase"); q->next();)
    st.kinds[kind_row.at(q->i64(0))].steps[static_cast<std::size_t>(q->i64(1))] = static_cast<std::uint64_t>(q->i64(2));
  for (auto q = query("SELECT kind, ready_at, started_at, ended_at, coalesce(outcome, '') FROM execution"); q->next();)
    add_execution(st, kind_row.at(q->i64(0)), q->f64(1), q->f64(2), maybe(*q, 3), q->text(4));
  for (auto q = query("SELECT kind, ready_at FROM step WHERE phase = " + phase_sql(Phase::READY)); q->next();)
    add_ready(st, kind_row.at(q->i64(0)), q->f64(1));
  drop_unused_kinds(st);
  for (auto q = query("SELECT started_at - created_at FROM session WHERE started_at IS NOT NULL"); q->next();)
    st.startup_s.add(std::max(0.0, q->f64(0)));
  for (auto q =
           query("SELECT p.id, p.host, p.pid, p.pools, p.started_at, p.heartbeat_at, p.stopped_at, "
                 "coalesce(p.stop_reason, ''), (SELECT count(*) FROM step s WHERE s.phase = " +
                 phase_sql(Phase::RUNNING) + " AND s.processor = p.id), p.reconnects FROM processor p ORDER BY p.id");
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
  for (auto q = query("SELECT reason, count(*) FROM session WHERE phase = 'FAILED' GROUP BY reason "
                      "ORDER BY 2 DESC, 1 LIMIT 10");
       q->next();)
    st.failure_reasons.emplace_back(q->text(0), static_cast<std::uint64_t>(q->i64(1)));
  // A submission that stopped heartbeating for 10 s died: it is not running any more.
  for (auto q = query("SELECT count(*) FROM submission WHERE finished_at IS NULL AND heartbeat_at > " +
                      std::to_string(now - 10));
       q->next();)
    st.submissions_active = static_cast<std::uint64_t>(q->i64(0));
  for (auto q = query("SELECT links, phase, bytes, arrived_at, started_at, at FROM transfer"); q->next();)
    add_transfer(st, q->text(0), static_cast<int>(q->i64(1)), q->f64(2), maybe(*q, 3), maybe(*q, 4), q->f64(5));
  return st;
}

History read_history(const Query& query, double since) {
  History h;
  const std::string from = std::to_string(since);
  for (auto q = query("SELECT k.name, e.attempt, e.ready_at, e.started_at, e.ended_at, e.outcome FROM execution e "
                      "JOIN kind k ON k.id = e.kind WHERE e.ended_at IS NOT NULL AND e.started_at >= " +
                      from + " ORDER BY e.started_at");
       q->next();)
    h.executions.push_back({q->text(0), static_cast<int>(q->i64(1)), q->f64(2), q->f64(3), q->f64(4), q->text(5)});
  for (auto q = query("SELECT created_at FROM session WHERE created_at >= " + from + " ORDER BY created_at");
       q->next();)
    h.arrivals.push_back(q->f64(0));
  return h;
}

void check_not_newer(int have, int want, const std::string& db) {
  if (have > want)
    throw StoreError(db + ": the database has schema version " + std::to_string(have) +
                     ", newer than this stepq understands (" + std::to_string(want) +
                     "); use a newer stepq, or another database");
}

void check_schema(int have, int want, const std::string& db) {
  if (have == 0)
    throw StoreError(db + ": no stepq schema in this database; create it with `stepq live init --db " + db + "`");
  check_not_newer(have, want, db);
  if (have < want)
    throw StoreError(db + ": the database has schema version " + std::to_string(have) +
                     "; migrate it with `stepq live init --db " + db + "`");
}

}  // namespace stepq::live
