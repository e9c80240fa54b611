// PostgreSQL's processor SQL: a processor's row and heartbeat (with its reconnections), the
// reaper that frees the steps of processors that stopped heartbeating, and a graceful stop that
// hands running steps back.
#pragma once
#include <cstdint>
#include <string>

#include "backends/live/phase_sql.hpp"

namespace stepq::pg::sql {

inline constexpr const char* kInsertProcessor =
    "INSERT INTO processor(host, pid, pools, started_at, heartbeat_at) VALUES ($1, $2, $3, stepq_now(), "
    "stepq_now()) "
    "RETURNING id";

// $2: the reconnections since the last heartbeat. No row: the reaper declared this processor dead.
inline constexpr const char* kHeartbeat =
    "UPDATE processor SET heartbeat_at = stepq_now(), reconnects = reconnects + $2, "
    "reconnected_at = CASE WHEN $2 > 0 THEN stepq_now() ELSE reconnected_at END "
    "WHERE id = $1 AND stopped_at IS NULL";

// ---- the reaper ----

// One reaper at a time across all processes: the others find the lock taken and skip a turn. An
// advisory lock key: see schema.hpp.
inline constexpr std::int64_t kLockReaper = 0x7374657000000003;
inline std::string try_lock_reaper() { return "SELECT pg_try_advisory_xact_lock(" + std::to_string(kLockReaper) + ")"; }

// $1 the stop reason, $2 the lease.
inline constexpr const char* kDeclareDead =
    "UPDATE processor SET stopped_at = stepq_now(), stop_reason = $1 "
    "WHERE stopped_at IS NULL AND heartbeat_at < stepq_now() - $2 RETURNING id";

// The steps that stopped processors were running, locked.
inline constexpr const char* kOrphans =
    "SELECT s.id, s.fence, s.attempt, s.max_attempts, s.session, s.kind, p.id, p.host, p.pid FROM step s "
    "JOIN processor p ON p.id = s.processor WHERE s.phase = " STEPQ_SQL_RUNNING
    " AND p.stopped_at IS NOT NULL ORDER BY s.id "
    "FOR NO KEY UPDATE OF s";

// Fenced by (step, fence) = ($1, $2); $3 the reason.
inline constexpr const char* kFailOrphan = "UPDATE step SET phase = " STEPQ_SQL_FAILED
                                           ", processor = NULL, token = NULL, finished_at = stepq_now(), reason = $3 "
                                           "WHERE id = $1 AND phase = " STEPQ_SQL_RUNNING " AND fence = $2";
inline constexpr const char* kRetryOrphan =
    "UPDATE step SET phase = " STEPQ_SQL_READY
    ", processor = NULL, token = NULL, attempt = attempt + 1, "
    "ready_at = stepq_now(), reason = $3 WHERE id = $1 AND phase = " STEPQ_SQL_RUNNING " AND fence = $2";

// The open executions of a processor declared dead ($1) whose steps were CANCELLED meanwhile.
inline constexpr const char* kReapCancelled =
    "UPDATE execution SET ended_at = stepq_now(), outcome = 'reaped', "
    "reason = 'processor ' || processor || ' stopped while running it, after the step was cancelled' "
    "WHERE ended_at IS NULL AND processor = $1";

// ---- a graceful stop: $1 this processor ----

inline constexpr const char* kReleaseExecutions =
    "UPDATE execution SET ended_at = stepq_now(), outcome = 'released', reason = 'graceful stop' "
    "WHERE ended_at IS NULL AND (step, fence) IN (SELECT id, fence FROM step WHERE phase = " STEPQ_SQL_RUNNING
    " AND processor = $1)";

inline constexpr const char* kReleaseSteps = "UPDATE step SET phase = " STEPQ_SQL_READY
                                             ", processor = NULL, token = NULL, ready_at = stepq_now() "
                                             "WHERE phase = " STEPQ_SQL_RUNNING " AND processor = $1 RETURNING kind";

// What is left open after kReleaseExecutions: steps CANCELLED while this processor ran them.
inline constexpr const char* kReleaseCancelled =
    "UPDATE execution SET ended_at = stepq_now(), outcome = 'lost', reason = 'graceful stop; the step had been "
    "cancelled' "
    "WHERE ended_at IS NULL AND processor = $1";

// Every kind may have READY steps now: wake every listener.
inline constexpr const char* kNotifyAll = "SELECT pg_notify('stepq_ready', id::text) FROM kind";

inline constexpr const char* kStopProcessor =
    "UPDATE processor SET stopped_at = stepq_now(), stop_reason = $2 WHERE id = $1 AND stopped_at IS NULL";

}  // namespace stepq::pg::sql
