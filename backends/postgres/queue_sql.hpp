// The PostgreSQL queue's hot SQL in one place. Each is ONE autocommit statement (one round trip,
// one commit), data-modifying CTEs doing what SQLite does in a transaction of several statements.
// PgStore prepares these; bench/pg_cycle.sh runs the very same text under pgbench to measure
// what stepq's own code costs on top.
#pragma once

namespace stepq::pg::sql {

// The claim of one pool: the oldest READY step among its kinds ($1, an int array), locked with
// SKIP LOCKED so concurrent claimers take different steps, MATERIALIZED so the planner cannot run
// the LIMIT subquery once per row (research/queues.md §2), FOR NO KEY UPDATE so that inserting an
// execution row (no foreign key, but sessions' steps are) is never blocked by a claim. The clock is
// read per row after the lock: a claim is dated after the commit that made its step READY.
// The execution log row is written by the same statement. $2 processor, $3 token.
inline constexpr const char* kClaim = R"sql(
WITH c AS MATERIALIZED (
  SELECT id FROM step WHERE phase = 2 AND kind = ANY($1::int[])
  ORDER BY ready_at, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED),
u AS (
  UPDATE step s SET phase = 3, processor = $2, token = $3, fence = s.fence + 1, claimed_at = stepq_now()
  FROM c WHERE s.id = c.id
  RETURNING s.id, s.fence, s.session, s.num, s.tmpl, s.kind, s.attempt, s.ready_at, s.activated_at, s.claimed_at),
e AS (
  INSERT INTO execution(step, fence, kind, attempt, processor, ready_at, started_at)
  SELECT id, fence, kind, attempt, $2, ready_at, claimed_at FROM u)
SELECT id, fence, session, num, tmpl, kind, attempt, ready_at, activated_at FROM u)sql";

// After a connection dropped during a claim: did it commit? $1 processor, $2 token.
inline constexpr const char* kClaimedByToken =
    "SELECT id, fence, session, num, tmpl, kind, attempt, ready_at, activated_at FROM step "
    "WHERE phase = 3 AND processor = $1 AND token = $2";

// Completion, fenced by (step, fence) = ($1, $2): the step COMPLETED, its successors counted down
// (READY when none is left: `n.deps_left = 1` reads the row before the update), the session
// counted down (COMPLETED at zero), the execution closed — 'lost' when the fence no longer holds.
// One notification per kind made READY: PostgreSQL folds identical (channel, payload) pairs of a
// transaction into one, and a commit that notifies takes a global lock, so fewer is better.
// Returns (applied, kinds made READY).
inline constexpr const char* kComplete = R"sql(
WITH f AS (
  UPDATE step SET phase = 4, processor = NULL, token = NULL, finished_at = stepq_now(), reason = NULL
  WHERE id = $1 AND phase = 3 AND fence = $2 RETURNING id, session, finished_at),
a AS (
  UPDATE step n SET deps_left = n.deps_left - 1,
    activated_at = CASE WHEN n.deps_left = 1 THEN f.finished_at ELSE n.activated_at END,
    ready_at = CASE WHEN n.deps_left = 1 AND n.phase = 0 THEN f.finished_at ELSE n.ready_at END,
    phase = CASE WHEN n.deps_left = 1 AND n.phase = 0 THEN 2 ELSE n.phase END
  FROM f, step_next e WHERE e.step = f.id AND n.id = e.next
  RETURNING n.kind, n.phase, n.deps_left),
s AS (
  UPDATE session SET steps_left = steps_left - 1,
    finished_at = CASE WHEN steps_left = 1 THEN f.finished_at ELSE session.finished_at END,
    phase = CASE WHEN steps_left = 1 THEN 'COMPLETED' ELSE session.phase END
  FROM f WHERE session.id = f.session AND session.phase = 'ACTIVE'),
x AS (
  UPDATE execution SET ended_at = coalesce((SELECT finished_at FROM f), stepq_now()),
    outcome = CASE WHEN EXISTS (SELECT 1 FROM f) THEN 'completed' ELSE 'lost' END
  WHERE step = $1 AND fence = $2 AND ended_at IS NULL),
r AS (SELECT DISTINCT kind FROM a WHERE phase = 2 AND deps_left = 0)
SELECT (SELECT count(*) FROM f), kind, pg_notify('stepq_ready', kind::text) FROM r
UNION ALL SELECT (SELECT count(*) FROM f), NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM r))sql";

// Back to WAITING until now + $3 s (a retry counts an attempt: $4 = 1; a poll that is not ready
// yet does not: 0), fenced. $5 reason, $6 outcome for the log. Returns the not-before time, or
// no value when the fence no longer holds.
inline constexpr const char* kWait = R"sql(
WITH f AS (
  UPDATE step SET phase = 1, processor = NULL, token = NULL, not_before = stepq_now() + $3,
    attempt = attempt + $4, reason = $5
  WHERE id = $1 AND phase = 3 AND fence = $2 RETURNING not_before),
x AS (
  UPDATE execution SET ended_at = stepq_now(),
    outcome = CASE WHEN EXISTS (SELECT 1 FROM f) THEN $6 ELSE 'lost' END, reason = $5
  WHERE step = $1 AND fence = $2 AND ended_at IS NULL)
SELECT (SELECT not_before FROM f))sql";

// A final failure: the step FAILED, fenced; the rest of the session is done in the same
// transaction (kCancelRest, kEndSession).
inline constexpr const char* kFail =
    "UPDATE step SET phase = 5, processor = NULL, token = NULL, finished_at = stepq_now(), reason = $3 "
    "WHERE id = $1 AND phase = 3 AND fence = $2 RETURNING session";

inline constexpr const char* kCancelRest =
    "UPDATE step SET phase = 6, processor = NULL, token = NULL, finished_at = stepq_now() "
    "WHERE session = $1 AND phase IN (0, 1, 2, 3)";

inline constexpr const char* kEndSession =
    "UPDATE session SET phase = $2, finished_at = stepq_now(), reason = $3 WHERE id = $1 AND phase = 'ACTIVE'";

inline constexpr const char* kEndExecution =
    "UPDATE execution SET ended_at = stepq_now(), outcome = $3, reason = $4 "
    "WHERE step = $1 AND fence = $2 AND ended_at IS NULL";

// After a connection dropped during a finish: its execution row says whether it committed.
inline constexpr const char* kExecutionOutcome = "SELECT outcome FROM execution WHERE step = $1 AND fence = $2";

// Due WAITING steps become READY from their not-before time; one notification per kind.
inline constexpr const char* kPromote = R"sql(
WITH p AS (
  UPDATE step SET phase = 2, ready_at = not_before WHERE phase = 1 AND not_before <= stepq_now() RETURNING kind),
k AS (SELECT DISTINCT kind FROM p)
SELECT kind, pg_notify('stepq_ready', kind::text) FROM k)sql";

inline constexpr const char* kNextDue = "SELECT min(not_before), stepq_now() FROM step WHERE phase = 1";

}  // namespace stepq::pg::sql
