// SQLite's queue SQL: the claim, the fenced finishes, dependency activation, promotion, and the
// end of a session whose step failed or was cancelled. SqliteStore prepares these;
// bench/sqlite_cycle.cpp runs the very same text on the bare C API to measure what stepq's own
// code costs on top.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "backends/live/phase_sql.hpp"

namespace stepq::sqlite::sql {

// The claim of one pool: the oldest READY step among its kinds. One index probe per kind (each
// kind's oldest via step_ready), then the oldest of those: cost grows with the number of kinds,
// not with the queue's depth. ?1 = processor, ?2 = now.
inline std::string claim(const std::vector<std::int64_t>& kinds) {
  auto oldest = [](std::int64_t k) {
    return "SELECT id, ready_at FROM step WHERE phase = " STEPQ_SQL_READY " AND kind = " + std::to_string(k) +
           " ORDER BY ready_at, id LIMIT 1";
  };
  std::string pick;
  if (kinds.size() == 1) {
    pick = "SELECT id FROM step WHERE phase = " STEPQ_SQL_READY " AND kind = " + std::to_string(kinds[0]) +
           " ORDER BY ready_at, id LIMIT 1";
  } else {
    pick = "SELECT id FROM (";
    for (std::size_t i = 0; i < kinds.size(); ++i)
      pick += (i ? " UNION ALL " : "") + std::string("SELECT * FROM (") + oldest(kinds[i]) + ")";
    pick += ") ORDER BY ready_at, id LIMIT 1";
  }
  return "UPDATE step SET phase = " STEPQ_SQL_RUNNING
         ", processor = ?1, fence = fence + 1, claimed_at = ?2 WHERE id = (" +
         pick + ") RETURNING id, fence, session, num, tmpl, kind, attempt, ready_at, activated_at";
}

// Whether a pool has a READY step: what a change made by another process may have brought.
inline std::string has_ready(const std::vector<std::int64_t>& kinds) {
  std::string list;
  for (auto k : kinds) list += (list.empty() ? "" : ", ") + std::to_string(k);
  return "SELECT EXISTS (SELECT 1 FROM step WHERE phase = " STEPQ_SQL_READY " AND kind IN (" + list + "))";
}

inline constexpr const char* kInsertExecution =
    "INSERT INTO execution(step, fence, kind, attempt, processor, ready_at, started_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

// Only an open execution: one the reaper closed stays as it closed it, when its process, declared
// dead while paused, wakes and finishes (tests/live/test_zombie.cpp), as on PostgreSQL.
inline constexpr const char* kEndExecution =
    "UPDATE execution SET ended_at = ?3, outcome = ?4, reason = ?5 WHERE step = ?1 AND fence = ?2 AND ended_at IS NULL";

inline constexpr const char* kFinishCompleted = "UPDATE step SET phase = " STEPQ_SQL_COMPLETED
                                                ", processor = NULL, finished_at = ?3, reason = NULL "
                                                "WHERE id = ?1 AND phase = " STEPQ_SQL_RUNNING " AND fence = ?2";

// Whether a step has successors: finish runs kActivateNext only then. That UPDATE … WHERE id IN
// (subquery) RETURNING opens three ephemeral b-trees even when it matches no row (the last steps
// of every session); skipping it takes 29% off a single-step cycle's instructions (callgrind,
// bench/sqlite_cycle.cpp). This probe is one index lookup.
inline constexpr const char* kHasNext = "SELECT EXISTS (SELECT 1 FROM step_next WHERE step = ?1)";

// Every expression on the right sees the row before the update: deps_left = 1 means "this was the last".
inline constexpr const char* kActivateNext =
    "UPDATE step SET deps_left = deps_left - 1, "
    "activated_at = CASE WHEN deps_left = 1 THEN ?2 ELSE activated_at END, "
    "ready_at = CASE WHEN deps_left = 1 AND phase = " STEPQ_SQL_DORMANT
    " THEN ?2 ELSE ready_at END, "
    "phase = CASE WHEN deps_left = 1 AND phase = " STEPQ_SQL_DORMANT " THEN " STEPQ_SQL_READY
    " ELSE phase END "
    "WHERE id IN (SELECT next FROM step_next WHERE step = ?1) RETURNING kind, phase, deps_left";

// A start-up step completed. The last one starts the session: COMPLETED at once, unless release
// steps follow (release_left > 0): then it stays ACTIVE, and the caller schedules the release
// from what this returns.
inline constexpr const char* kCountDownSession =
    "UPDATE session SET steps_left = steps_left - 1, "
    "started_at = CASE WHEN steps_left = 1 THEN ?2 ELSE started_at END, "
    "outcome = CASE WHEN steps_left = 1 THEN 'COMPLETED' ELSE outcome END, "
    "finished_at = CASE WHEN steps_left = 1 AND release_left = 0 THEN ?2 ELSE finished_at END, "
    "phase = CASE WHEN steps_left = 1 AND release_left = 0 THEN 'COMPLETED' ELSE phase END "
    "WHERE id = ?1 AND phase = 'ACTIVE' RETURNING steps_left, release_left, running_at, run_s";

// A release step completed; the last one ends the session as its outcome says.
inline constexpr const char* kCountDownRelease =
    "UPDATE session SET release_left = release_left - 1, "
    "finished_at = CASE WHEN release_left = 1 THEN ?2 ELSE finished_at END, "
    "phase = CASE WHEN release_left = 1 THEN outcome ELSE phase END "
    "WHERE id = ?1 AND phase = 'ACTIVE'";

inline constexpr const char* kFinishFailed = "UPDATE step SET phase = " STEPQ_SQL_FAILED
                                             ", processor = NULL, finished_at = ?3, reason = ?4 "
                                             "WHERE id = ?1 AND phase = " STEPQ_SQL_RUNNING " AND fence = ?2";

inline constexpr const char* kFinishWait = "UPDATE step SET phase = " STEPQ_SQL_WAITING
                                           ", processor = NULL, not_before = ?3, attempt = attempt + ?4, reason = ?5 "
                                           "WHERE id = ?1 AND phase = " STEPQ_SQL_RUNNING " AND fence = ?2";

inline constexpr const char* kDepsLeft = "SELECT deps_left FROM step WHERE id = ?1";

inline constexpr const char* kNextDue = "SELECT min(not_before) FROM step WHERE phase = " STEPQ_SQL_WAITING;

inline constexpr const char* kPromote =
    "UPDATE step SET phase = " STEPQ_SQL_READY ", ready_at = not_before WHERE phase = " STEPQ_SQL_WAITING
    " AND not_before <= ?1 RETURNING kind";

// ---- a session's end: a final failure or a cancel ----

// Whether the session has release steps (the first one's num) and whether its start-up is over.
inline constexpr const char* kSessionRelease =
    "SELECT release_from, outcome IS NOT NULL FROM session WHERE id = ?1 AND phase = 'ACTIVE'";

// The unfinished steps of a session numbered in [?3, ?4): its start-up, or the rest of its release.
inline constexpr const char* kCancelRest = "UPDATE step SET phase = " STEPQ_SQL_CANCELLED
                                           ", processor = NULL, finished_at = ?2 WHERE session = ?1 AND "
                                           "phase IN (" STEPQ_SQL_DORMANT ", " STEPQ_SQL_WAITING ", " STEPQ_SQL_READY
                                           ", " STEPQ_SQL_RUNNING ") AND num >= ?3 AND num < ?4";

inline constexpr const char* kEndSession =
    "UPDATE session SET phase = ?2, finished_at = ?3, reason = ?4 WHERE id = ?1 AND phase = 'ACTIVE'";

// The session ends when its release steps are done, as ?2 says.
inline constexpr const char* kSessionOutcome = "UPDATE session SET outcome = ?2, reason = ?3 WHERE id = ?1";

// The release roots or, under "recheck" dependencies, every release step, as the broker does
// today: READY at ?3, or WAITING until then when that is after now (?2).
inline constexpr const char* kStartRelease =
    "UPDATE step SET phase = CASE WHEN ?3 > ?2 THEN " STEPQ_SQL_WAITING " ELSE " STEPQ_SQL_READY
    " END, not_before = ?3, ready_at = ?3, activated_at = ?3 "
    "WHERE session = ?1 AND phase = " STEPQ_SQL_DORMANT
    " AND num >= (SELECT release_from FROM session WHERE id = ?1) AND "
    "(deps_left = 0 OR (SELECT release_all FROM session WHERE id = ?1)) RETURNING kind";

}  // namespace stepq::sqlite::sql
