// SQLite's processor SQL: a processor's row and heartbeat, the reaper that frees the steps of
// processors that stopped heartbeating, and a graceful stop that hands running steps back.
// SqliteStore runs these; ?-parameters are documented where their meaning is not the column's.
#pragma once

#include "backends/live/phase_sql.hpp"

namespace stepq::sqlite::sql {

inline constexpr const char* kInsertProcessor =
    "INSERT INTO processor(host, pid, pools, started_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?4)";

// No row: the reaper declared this processor dead.
inline constexpr const char* kHeartbeat = "UPDATE processor SET heartbeat_at = ?2 WHERE id = ?1 AND stopped_at IS NULL";

// ---- the reaper: ?1 now, ?2 the stop reason, ?3 the lease ----

inline constexpr const char* kDeclareDead =
    "UPDATE processor SET stopped_at = ?1, stop_reason = ?2 WHERE stopped_at IS NULL AND "
    "heartbeat_at < ?1 - ?3";

// The steps that stopped processors were running.
inline constexpr const char* kOrphans =
    "SELECT s.id, s.fence, s.attempt, s.max_attempts, s.session, s.kind, p.id, p.host, p.pid FROM step s "
    "JOIN processor p ON p.id = s.processor WHERE s.phase = " STEPQ_SQL_RUNNING " AND p.stopped_at IS NOT NULL";

inline constexpr const char* kFailOrphan = "UPDATE step SET phase = " STEPQ_SQL_FAILED
                                           ", processor = NULL, finished_at = ?2, reason = ?3 WHERE id = ?1 AND "
                                           "phase = " STEPQ_SQL_RUNNING;

inline constexpr const char* kRetryOrphan = "UPDATE step SET phase = " STEPQ_SQL_READY
                                            ", processor = NULL, attempt = attempt + 1, ready_at = ?2, "
                                            "reason = ?3 "
                                            "WHERE id = ?1 AND phase = " STEPQ_SQL_RUNNING;

// The open executions of processors declared dead at ?1 whose steps were CANCELLED meanwhile.
inline constexpr const char* kReapCancelled =
    "UPDATE execution SET ended_at = ?1, outcome = 'reaped', "
    "reason = 'processor ' || processor || ' stopped while running it, after the step was cancelled' "
    "WHERE ended_at IS NULL AND processor IN (SELECT id FROM processor WHERE stopped_at = ?1)";

// ---- a graceful stop: ?1 this processor, ?2 now ----

inline constexpr const char* kReleaseExecutions =
    "UPDATE execution SET ended_at = ?2, outcome = 'released', reason = 'graceful stop' "
    "WHERE ended_at IS NULL AND (step, fence) IN (SELECT id, fence FROM step WHERE phase = " STEPQ_SQL_RUNNING
    " AND processor = ?1)";

inline constexpr const char* kReleaseSteps =
    "UPDATE step SET phase = " STEPQ_SQL_READY ", processor = NULL, ready_at = ?2 WHERE phase = " STEPQ_SQL_RUNNING
    " AND processor = ?1";

// What is left open after kReleaseExecutions: steps CANCELLED while this processor ran them.
inline constexpr const char* kReleaseCancelled =
    "UPDATE execution SET ended_at = ?2, outcome = 'lost', reason = 'graceful stop; the step had been cancelled' "
    "WHERE ended_at IS NULL AND processor = ?1";

inline constexpr const char* kStopProcessor =
    "UPDATE processor SET stopped_at = ?2, stop_reason = ?3 WHERE id = ?1 AND stopped_at IS NULL";

}  // namespace stepq::sqlite::sql
