// PostgreSQL's own reads for the operator and the engine's exit: whether anything is left to do
// (`--until-idle`), a session's phase for `live cancel`, and the snapshot and cursor that the
// status, history and queue reads (the same on both databases: backends/live/store_status.cpp)
// run in.
#pragma once
#include <string>

#include "backends/live/phase_sql.hpp"

namespace stepq::pg::sql {

// Idle: no ACTIVE session, and no submission heartbeating in the last $1 s.
inline constexpr const char* kIdle =
    "SELECT NOT (EXISTS (SELECT 1 FROM session WHERE phase = 'ACTIVE') OR "
    "EXISTS (SELECT 1 FROM submission WHERE finished_at IS NULL AND heartbeat_at > stepq_now() - $1))";

inline constexpr const char* kLockSessionPhase = "SELECT phase FROM session WHERE id = $1 FOR UPDATE";
inline constexpr const char* kSessionPhase = "SELECT phase FROM session WHERE id = $1";
// Whether the session is giving back what it had (its outcome is set; its release runs).
inline constexpr const char* kSessionReleasing = "SELECT outcome IS NOT NULL FROM session WHERE id = $1";
// After a cancel whose COMMIT's answer was lost: did it commit? (an operator's cancel, ended or
// releasing), and the steps it cancelled.
inline constexpr const char* kCancelledByOperator =
    "SELECT coalesce(outcome, phase) = 'CANCELLED' AND reason = 'cancelled by an operator', "
    "(SELECT count(*) FROM step WHERE session = $1 AND phase = " STEPQ_SQL_CANCELLED ") FROM session WHERE id = $1";

// Every read in it sees one snapshot, so that counts add up.
inline constexpr const char* kBeginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
inline constexpr const char* kNow = "SELECT stepq_now()";

// A query read through a cursor, kFetchRows rows at a time: libpq otherwise holds a whole result
// in memory, and a history may have millions of rows.
inline constexpr int kFetchRows = 10000;
inline std::string declare_cursor(const std::string& name, const std::string& query) {
  return "DECLARE " + name + " NO SCROLL CURSOR FOR " + query;
}
inline std::string fetch(const std::string& name) { return "FETCH " + std::to_string(kFetchRows) + " FROM " + name; }

// `live status`'s summary of sealed sessions, over the one it read ($1: the summary, $2: the
// generation read): another status may have stored a newer one meanwhile.
inline constexpr const char* kWriteStatusCache =
    "UPDATE status_cache SET generation = generation + 1, summary = $1 WHERE id = 1 AND generation = $2";

}  // namespace stepq::pg::sql
