#include "store_status.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "phase_sql.hpp"

namespace stepq::live {

std::string forecast_insert_sql(const std::vector<ForecastRecord>& rows, const std::string& sealed_before) {
  // A column of NULLs alone would be text to PostgreSQL, which a REAL column refuses.
  const auto v = [](double x) {
    if (std::isnan(x)) return std::string("CAST(NULL AS DOUBLE PRECISION)");
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", x);
    return std::string(b);
  };
  std::string sql = "INSERT INTO forecast (session, made_at, p50_at, p95_at, queue_blind_s, time_scale) "
                    "SELECT * FROM (VALUES ";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ForecastRecord& r = rows[i];
    sql += (i ? ", (" : "(") + std::to_string(r.session) + ", " + v(r.made_at) + ", " + v(r.p50_at) + ", " +
           v(r.p95_at) + ", " + v(r.queue_blind_s) + ", " + v(r.time_scale) + ")";
  }
  // VALUES' columns are column1, column2, … in both dialects.
  return sql + ") AS v WHERE NOT EXISTS (SELECT 1 FROM session s WHERE s.id = v.column1 AND s.phase <> 'ACTIVE' "
               "AND s.finished_at < " + sealed_before + ") ON CONFLICT DO NOTHING";
}

History read_history(const Query& query, double since, HistorySink& sink) {
  History h;
  const std::string from = std::to_string(since);
  History::Execution e;
  for (auto q = query("SELECT k.name, e.attempt, e.ready_at, e.started_at, e.ended_at, e.outcome, e.step, "
                      "st.activated_at, s.admitted_at FROM execution e JOIN kind k ON k.id = e.kind "
                      "JOIN step st ON st.id = e.step JOIN session s ON s.id = st.session "
                      "WHERE e.ended_at IS NOT NULL AND e.started_at >= " +
                      from + " ORDER BY e.started_at");
       q->next();) {
    e.kind = q->text(0);
    e.attempt = static_cast<int>(q->i64(1));
    e.ready_at = q->f64(2), e.started_at = q->f64(3), e.ended_at = q->f64(4);
    e.outcome = q->text(5);
    e.step = q->i64(6);
    e.activated_at = q->null(7) ? std::nan("") : q->f64(7);
    e.admitted_at = q->null(8) ? std::nan("") : q->f64(8);
    sink.execution(e);
  }
  // Run times: from Running (or start-up) to the first release step's activation.
  for (auto q = query("SELECT t.name, COALESCE(s.running_at, s.started_at), (SELECT MIN(st.activated_at) FROM step st "
                      "WHERE st.session = s.id AND st.num >= s.release_from) FROM session s JOIN template t ON "
                      "t.id = s.template WHERE s.phase = 'COMPLETED' AND s.release_from IS NOT NULL AND "
                      "s.started_at IS NOT NULL AND s.created_at >= " +
                      from);
       q->next();)
    if (!q->null(1) && !q->null(2)) sink.session_run(q->text(0), q->f64(2) - q->f64(1));
  // Rule delays: a rule's transfer row is written as the rule step finishes, and reaches its
  // links (arrived_at) when the delay has passed.
  for (auto q = query("SELECT k.name, t.arrived_at - e.ended_at FROM transfer t JOIN step st ON st.session = t.session "
                      "AND st.num = t.num JOIN execution e ON e.step = st.id AND e.attempt = t.attempt AND "
                      "e.outcome = 'completed' JOIN kind k ON k.id = st.kind WHERE t.arrived_at IS NOT NULL AND "
                      "e.started_at >= " +
                      from);
       q->next();)
    sink.rule_delay(q->text(0), q->f64(1));
  History::Transfer t;
  for (auto q = query("SELECT route, bytes, started_at, at FROM transfer WHERE phase = " STEPQ_SQL_TRANSFER_DONE
                      " AND started_at >= " +
                      from + " ORDER BY started_at");
       q->next();) {
    t.route = static_cast<int>(q->i64(0));
    t.bytes = q->f64(1), t.started_at = q->f64(2), t.ended_at = q->f64(3);
    sink.transfer(t);
  }
  for (auto q = query("SELECT created_at FROM session WHERE created_at >= " + from + " ORDER BY created_at");
       q->next();)
    h.arrivals.push_back(q->f64(0));
  for (auto q = query("SELECT pools, started_at, COALESCE(stopped_at, heartbeat_at) FROM processor WHERE "
                      "COALESCE(stopped_at, heartbeat_at) >= " +
                      from + " ORDER BY id");
       q->next();)
    h.processors.push_back({q->text(0), q->f64(1), q->f64(2)});
  return h;
}

QueueState read_queue_state(const Query& query, double now) {
  QueueState q;
  q.now = now;
  const auto opt = [](const Rows& r, int col) { return r.null(col) ? std::nan("") : r.f64(col); };
  for (auto r = query("SELECT COALESCE(MAX(id) + 1, 0) FROM session"); r->next();)
    q.next_id = static_cast<std::uint64_t>(r->i64(0));
  std::map<std::uint64_t, std::size_t> at;
  for (auto r = query("SELECT s.id, t.name, s.created_at, s.started_at, s.outcome, s.compute, s.cores, s.memory_GB, "
                      "s.submitted_at, s.admitted_at, s.running_at, s.owner, s.node FROM session s "
                      "JOIN template t ON t.id = s.template WHERE s.phase = 'ACTIVE' ORDER BY s.id");
       r->next();) {
    const auto id = static_cast<std::uint64_t>(r->i64(0));
    at[id] = q.sessions.size();
    QueueState::Session s;
    s.id = id, s.tmpl = r->text(1), s.created_at = r->f64(2), s.started_at = opt(*r, 3), s.ended = !r->null(4);
    s.compute = r->null(5) ? "" : r->text(5);
    s.cores = r->f64(6), s.memory_GB = r->f64(7);
    s.submitted_at = opt(*r, 8), s.admitted_at = opt(*r, 9), s.running_at = opt(*r, 10);
    s.owner = static_cast<std::uint64_t>(r->i64(11));
    s.node = r->null(12) ? -1 : static_cast<int>(r->i64(12));
    q.sessions.push_back(std::move(s));
  }
  for (auto r = query("SELECT r.session, r.area, r.bytes FROM reservation r JOIN session s ON s.id = r.session "
                      "WHERE s.phase = 'ACTIVE' AND r.temp");
       r->next();) {
    const auto it = at.find(static_cast<std::uint64_t>(r->i64(0)));
    if (it != at.end()) q.sessions[it->second].temp.emplace_back(r->text(1), r->f64(2));
  }
  for (auto r = query("SELECT name, free_bytes FROM storage_area ORDER BY name"); r->next();)
    q.area_free.emplace_back(r->text(0), r->f64(1));
  for (auto r =
           query("SELECT pools FROM processor WHERE stopped_at IS NULL AND heartbeat_at > " + std::to_string(now - 10));
       r->next();)
    q.running_pools.push_back(r->text(0));
  for (auto r = query("SELECT session, num, attempt, route, phase, left_bytes, at FROM transfer "
                      "WHERE phase < " STEPQ_SQL_TRANSFER_DONE " ORDER BY COALESCE(arrived_at, at), id");
       r->next();)
    q.transfers.push_back({static_cast<std::uint64_t>(r->i64(0)), static_cast<int>(r->i64(1)),
                           static_cast<int>(r->i64(2)), static_cast<int>(r->i64(3)), static_cast<int>(r->i64(4)),
                           r->f64(5), r->f64(6)});
  // A poll's last look that found its thing not ready: the requeue of its current attempt.
  for (auto r = query("SELECT st.session, st.num, st.phase, st.attempt, st.activated_at, st.ready_at, st.claimed_at, "
                      "st.not_before, (SELECT MAX(e.ended_at) FROM execution e WHERE e.step = st.id AND "
                      "e.attempt = st.attempt AND e.outcome = 'requeue'), k.name FROM step st JOIN session s ON "
                      "s.id = st.session JOIN kind k ON k.id = st.kind WHERE s.phase = 'ACTIVE' "
                      "ORDER BY st.session, st.num");
       r->next();) {
    const auto it = at.find(static_cast<std::uint64_t>(r->i64(0)));
    if (it == at.end()) continue;  // not in the snapshot's sessions (cannot happen in one snapshot)
    QueueState::Step st;
    st.num = static_cast<int>(r->i64(1)), st.phase = static_cast<int>(r->i64(2)),
    st.attempt = static_cast<int>(r->i64(3));
    st.activated_at = opt(*r, 4), st.ready_at = opt(*r, 5), st.claimed_at = opt(*r, 6), st.not_before = opt(*r, 7);
    st.last_not_ready = opt(*r, 8);
    st.kind = r->text(9);
    q.sessions[it->second].steps.push_back(std::move(st));
  }
  return q;
}

LiveStatus LiveStore::status(StatusCache cache) {
  require_schema();
  StatusOptions opt = status_options;
  opt.use_cache = cache == StatusCache::use;
  StatusRead r;
  // Streamed: a first status reads every row, and PostgreSQL would otherwise hold them all.
  read_snapshot([&](const Query& query, double now, bool) { r = read_status(query, now, opt); }, true);
  if (r.cache_write) try {
      write_status_cache(r.cache_write->first, r.cache_write->second);
    } catch (const std::exception&) {  // read-only: the next status sums these rows again
    }
  return std::move(r.status);
}

History LiveStore::history(double since, HistorySink& sink) {
  require_schema();
  History h;
  read_snapshot(
      [&](const Query& query, double, bool again) {
        if (again) sink.restart();
        h = read_history(query, since, sink);
      },
      true);
  return h;
}

QueueState LiveStore::queue_state() {
  require_schema();
  QueueState q;
  read_snapshot([&](const Query& query, double now, bool) { q = read_queue_state(query, now); }, false);
  return q;
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
