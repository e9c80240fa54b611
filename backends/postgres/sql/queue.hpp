// PostgreSQL's queue SQL: the claim, the fenced finishes, promotion, the READY notifications,
// and the end of a session whose step failed or was cancelled. Each hot one is ONE autocommit
// statement (one round trip, one commit), data-modifying CTEs doing what SQLite does in a
// transaction of several statements. PgStore prepares these; bench/run_pg.sh runs the very same
// text under pgbench (`pg_cycle script` prints it) to measure what stepq's own code costs on top.
#pragma once
#include <string>

#include "backends/live/phase_sql.hpp"

namespace stepq::pg::sql {

// The claim of one pool: the oldest READY step among its kinds, locked with SKIP LOCKED so
// concurrent claimers take different steps, MATERIALIZED so the planner cannot run the LIMIT
// subquery once per row (research/queues.md §2), FOR NO KEY UPDATE so that it never blocks an
// insert that checks a foreign key. The clock is read per row after the lock: a claim is dated
// after the commit that made its step READY. The execution log row is written by the same
// statement. $1 the kind (one kind) or kinds (an int array), $2 processor, $3 token.
//
// One kind: `kind = $1` walks step_ready (kind, ready_at, id) in order and stops at the first
// unlocked row. Several kinds: `kind = ANY(…) ORDER BY ready_at` would sort every READY step of
// those kinds (8 ms at 10,000 READY), so each kind's oldest 64 are taken from the index and the
// oldest unlocked of those is claimed. With more than 64 concurrent claimers on one kind that can
// come back empty while steps are READY: PgStore::claim then claims kind by kind as for one kind.
inline std::string claim(bool several_kinds) {
  const std::string pick = several_kinds ? "SELECT id FROM step WHERE id = ANY (ARRAY("
                                           "SELECT x.id FROM unnest($1::int[]) AS k(kind), LATERAL ("
                                           "SELECT id FROM step WHERE phase = " STEPQ_SQL_READY
                                           " AND kind = k.kind ORDER BY ready_at, id LIMIT 64) x)) "
                                           "AND phase = " STEPQ_SQL_READY
                                           " ORDER BY ready_at, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED"
                                         : "SELECT id FROM step WHERE phase = " STEPQ_SQL_READY
                                           " AND kind = $1::int "
                                           "ORDER BY ready_at, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED";
  return "WITH c AS MATERIALIZED (" + pick +
         "),\n"
         "u AS (\n"
         "  UPDATE step s SET phase = " STEPQ_SQL_RUNNING
         ", processor = $2, token = $3, fence = s.fence + 1, claimed_at = stepq_now()\n"
         "  FROM c WHERE s.id = c.id\n"
         "  RETURNING s.id, s.fence, s.session, s.num, s.tmpl, s.kind, s.attempt, s.ready_at, s.activated_at, "
         "s.claimed_at),\n"
         "e AS (\n"
         "  INSERT INTO execution(step, fence, kind, attempt, processor, ready_at, started_at)\n"
         "  SELECT id, fence, kind, attempt, $2, ready_at, claimed_at FROM u)\n"
         "SELECT id, fence, session, num, tmpl, kind, attempt, ready_at, activated_at FROM u";
}

// After a connection dropped during a claim: did it commit? $1 processor, $2 token.
inline constexpr const char* kClaimedByToken =
    "SELECT id, fence, session, num, tmpl, kind, attempt, ready_at, activated_at FROM step "
    "WHERE phase = " STEPQ_SQL_RUNNING " AND processor = $1 AND token = $2";

// Completion, fenced by (step, fence) = ($1, $2): the step COMPLETED, its successors counted down
// (READY when none is left: `n.deps_left = 1` reads the row before the update), the session
// counted down, the execution closed — 'lost' when the fence no longer holds. A start-up step
// counts steps_left down and the last one starts the session: COMPLETED at once, or, when release
// steps follow (release_from), its release roots WAITING until it has run run_s from Running
// ($3 = wall seconds per scenario second; `rel`); a release step counts release_left down and
// the last one ends the session as its outcome says; $4: what the step found (the execution's
// reason, or NULL). Returns (applied, kinds made READY, the
// release's not-before when it waits). It does not NOTIFY: a commit that notifies holds a global
// lock through its WAL flush, so notifying completions commit one at a time (seen: 12 of 32
// backends waiting on it, 530 steps/s). PgStore sends the notifications afterwards, batched.
// clang-format off
inline constexpr const char* kComplete = R"sql(
WITH f AS (
  UPDATE step SET phase = )sql" STEPQ_SQL_COMPLETED R"sql(, processor = NULL, token = NULL, finished_at = stepq_now(), reason = NULL
  WHERE id = $1 AND phase = )sql" STEPQ_SQL_RUNNING R"sql( AND fence = $2 RETURNING id, session, num, finished_at),
a AS (
  UPDATE step n SET deps_left = n.deps_left - 1,
    activated_at = CASE WHEN n.deps_left = 1 THEN f.finished_at ELSE n.activated_at END,
    ready_at = CASE WHEN n.deps_left = 1 AND n.phase = )sql" STEPQ_SQL_DORMANT R"sql( THEN f.finished_at ELSE n.ready_at END,
    phase = CASE WHEN n.deps_left = 1 AND n.phase = )sql" STEPQ_SQL_DORMANT R"sql( THEN )sql" STEPQ_SQL_READY R"sql( ELSE n.phase END
  FROM f, step_next e WHERE e.step = f.id AND n.id = e.next
  RETURNING n.kind, n.phase, n.deps_left),
s AS (
  UPDATE session SET
    steps_left = steps_left - CASE WHEN f.num < coalesce(release_from, 2147483647) THEN 1 ELSE 0 END,
    release_left = release_left - CASE WHEN f.num >= coalesce(release_from, 2147483647) THEN 1 ELSE 0 END,
    started_at = CASE WHEN f.num < coalesce(release_from, 2147483647) AND steps_left = 1 THEN f.finished_at
                      ELSE session.started_at END,
    outcome = CASE WHEN f.num < coalesce(release_from, 2147483647) AND steps_left = 1 THEN 'COMPLETED'
                   ELSE session.outcome END,
    finished_at = CASE WHEN (f.num < coalesce(release_from, 2147483647) AND steps_left = 1 AND release_left = 0)
                             OR (f.num >= coalesce(release_from, 2147483647) AND release_left = 1) THEN f.finished_at
                       ELSE session.finished_at END,
    phase = CASE WHEN f.num < coalesce(release_from, 2147483647) AND steps_left = 1 AND release_left = 0 THEN 'COMPLETED'
                 WHEN f.num >= coalesce(release_from, 2147483647) AND release_left = 1 THEN session.outcome
                 ELSE session.phase END
  FROM f WHERE session.id = f.session AND session.phase = 'ACTIVE'
  RETURNING session.id, session.steps_left, session.release_left, session.release_from, session.release_all,
    f.num < coalesce(session.release_from, 2147483647) AS startup,
    greatest(f.finished_at, coalesce(session.running_at, f.finished_at) + session.run_s * $3::float8) AS release_at),
rel AS (
  UPDATE step r SET phase = CASE WHEN s.release_at > stepq_now() THEN )sql" STEPQ_SQL_WAITING R"sql( ELSE )sql" STEPQ_SQL_READY R"sql( END,
    not_before = s.release_at, ready_at = s.release_at, activated_at = s.release_at
  FROM s WHERE s.startup AND s.steps_left = 0 AND s.release_left > 0 AND r.session = s.id AND r.phase = )sql" STEPQ_SQL_DORMANT R"sql(
    AND r.num >= s.release_from AND (r.deps_left = 0 OR s.release_all)
  RETURNING r.kind, r.phase, r.not_before),
x AS (
  UPDATE execution SET ended_at = coalesce((SELECT finished_at FROM f), stepq_now()),
    outcome = CASE WHEN EXISTS (SELECT 1 FROM f) THEN 'completed' ELSE 'lost' END, reason = $4::text
  WHERE step = $1 AND fence = $2 AND ended_at IS NULL),
r AS (SELECT kind FROM a WHERE phase = )sql" STEPQ_SQL_READY R"sql( AND deps_left = 0 UNION SELECT kind FROM rel WHERE phase = )sql" STEPQ_SQL_READY R"sql(),
w AS (SELECT min(not_before) AS due FROM rel WHERE phase = )sql" STEPQ_SQL_WAITING R"sql()
SELECT (SELECT count(*) FROM f), kind, (SELECT due FROM w) FROM r
UNION ALL SELECT (SELECT count(*) FROM f), NULL, (SELECT due FROM w) WHERE NOT EXISTS (SELECT 1 FROM r))sql";
// clang-format on

// Back to WAITING until now + $3 s (a retry counts an attempt: $4 = 1; a poll that is not ready
// yet does not: 0), fenced. $5 reason, $6 outcome for the log. Returns the not-before time, or
// no value when the fence no longer holds.
// clang-format off
inline constexpr const char* kWait = R"sql(
WITH f AS (
  UPDATE step SET phase = )sql" STEPQ_SQL_WAITING R"sql(, processor = NULL, token = NULL, not_before = stepq_now() + $3,
    attempt = attempt + $4, reason = $5
  WHERE id = $1 AND phase = )sql" STEPQ_SQL_RUNNING R"sql( AND fence = $2 RETURNING not_before),
x AS (
  UPDATE execution SET ended_at = stepq_now(),
    outcome = CASE WHEN EXISTS (SELECT 1 FROM f) THEN $6 ELSE 'lost' END, reason = $5
  WHERE step = $1 AND fence = $2 AND ended_at IS NULL)
SELECT (SELECT not_before FROM f))sql";
// clang-format on

// A final failure: the step FAILED, fenced; the rest of the session is done in the same
// transaction (kCancelRest, kEndSession).
inline constexpr const char* kFail = "UPDATE step SET phase = " STEPQ_SQL_FAILED
                                     ", processor = NULL, token = NULL, finished_at = stepq_now(), reason = $3 "
                                     "WHERE id = $1 AND phase = " STEPQ_SQL_RUNNING " AND fence = $2 RETURNING session";

// The unfinished steps of a session numbered in [$2, $3): its start-up, or the rest of its release.
inline constexpr const char* kCancelRest = "UPDATE step SET phase = " STEPQ_SQL_CANCELLED
                                           ", processor = NULL, token = NULL, finished_at = stepq_now() "
                                           "WHERE session = $1 AND phase IN (" STEPQ_SQL_DORMANT ", " STEPQ_SQL_WAITING
                                           ", " STEPQ_SQL_READY ", " STEPQ_SQL_RUNNING ") AND num >= $2 AND num < $3";

// A failed or cancelled session that has release steps gives back what it had: they start now.
inline constexpr const char* kStartRelease =
    "UPDATE step SET phase = " STEPQ_SQL_READY
    ", ready_at = stepq_now(), activated_at = stepq_now() "
    "FROM session s WHERE s.id = $1 AND step.session = s.id AND step.phase = " STEPQ_SQL_DORMANT
    " AND step.num >= s.release_from "
    "AND (step.deps_left = 0 OR s.release_all) RETURNING step.kind";

inline constexpr const char* kEndSession =
    "UPDATE session SET phase = $2, finished_at = stepq_now(), reason = $3 WHERE id = $1 AND phase = 'ACTIVE'";

inline constexpr const char* kEndExecution =
    "UPDATE execution SET ended_at = stepq_now(), outcome = $3, reason = $4 "
    "WHERE step = $1 AND fence = $2 AND ended_at IS NULL";

// After a connection dropped during a finish: its execution row says whether it committed.
inline constexpr const char* kExecutionOutcome = "SELECT outcome FROM execution WHERE step = $1 AND fence = $2";

// Due WAITING steps become READY from their not-before time; returns their kinds.
// clang-format off
inline constexpr const char* kPromote = R"sql(
WITH p AS (
  UPDATE step SET phase = )sql" STEPQ_SQL_READY R"sql(, ready_at = not_before WHERE phase = )sql" STEPQ_SQL_WAITING R"sql( AND not_before <= stepq_now() RETURNING kind)
SELECT DISTINCT kind FROM p)sql";
// clang-format on

// Notifications for the kinds ($1, a text array) made READY since the last batch: a transaction
// of its own that writes nothing, so the global notify lock is held for microseconds.
inline constexpr const char* kNotify = "SELECT pg_notify('stepq_ready', k) FROM unnest($1::text[]) AS k";

inline constexpr const char* kNextDue =
    "SELECT min(not_before), stepq_now() FROM step WHERE phase = " STEPQ_SQL_WAITING;

// Whether a pool has a READY step ($1: its kinds, an int array).
inline constexpr const char* kHasReady =
    "SELECT EXISTS (SELECT 1 FROM step WHERE phase = " STEPQ_SQL_READY " AND kind = ANY($1::int[]))";

inline constexpr const char* kListen = "LISTEN stepq_ready";

// A notification outside the batches: $1 the kind, as text.
inline constexpr const char* kNotifyKind = "SELECT pg_notify('stepq_ready', $1)";

inline constexpr const char* kDepsLeft = "SELECT deps_left FROM step WHERE id = $1";

// Whether the session has release steps (the first one's num) and whether its start-up is over.
inline constexpr const char* kSessionRelease =
    "SELECT release_from, outcome IS NOT NULL FROM session WHERE id = $1 AND phase = 'ACTIVE'";

// The session ends when its release steps are done, as $2 says.
inline constexpr const char* kSessionOutcome = "UPDATE session SET outcome = $2, reason = $3 WHERE id = $1";

}  // namespace stepq::pg::sql
