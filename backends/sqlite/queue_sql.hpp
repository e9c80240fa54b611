// The queue's hot SQL in one place: the claim, the fenced finishes, dependency activation and
// promotion. SqliteStore prepares these; bench/sqlite_cycle.cpp runs the very same text on the
// bare C API to measure what stepq's own code costs on top.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace stepq::sqlite::sql {

// The claim of one pool: the oldest READY step among its kinds. One index probe per kind (each
// kind's oldest via step_ready), then the oldest of those: cost grows with the number of kinds,
// not with the queue's depth. ?1 = processor, ?2 = now.
inline std::string claim(const std::vector<std::int64_t>& kinds) {
  auto oldest = [](std::int64_t k) {
    return "SELECT id, ready_at FROM step WHERE phase = 2 AND kind = " + std::to_string(k) +
           " ORDER BY ready_at, id LIMIT 1";
  };
  std::string pick;
  if (kinds.size() == 1) {
    pick =
        "SELECT id FROM step WHERE phase = 2 AND kind = " + std::to_string(kinds[0]) + " ORDER BY ready_at, id LIMIT 1";
  } else {
    pick = "SELECT id FROM (";
    for (std::size_t i = 0; i < kinds.size(); ++i)
      pick += (i ? " UNION ALL " : "") + std::string("SELECT * FROM (") + oldest(kinds[i]) + ")";
    pick += ") ORDER BY ready_at, id LIMIT 1";
  }
  return "UPDATE step SET phase = 3, processor = ?1, fence = fence + 1, claimed_at = ?2 WHERE id = (" + pick +
         ") RETURNING id, fence, session, num, tmpl, kind, attempt, ready_at, activated_at";
}

inline std::string kinds_list(const std::vector<std::int64_t>& kinds) {
  std::string s;
  for (auto k : kinds) s += (s.empty() ? "" : ", ") + std::to_string(k);
  return s;
}

inline constexpr const char* kInsertExecution =
    "INSERT INTO execution(step, fence, kind, attempt, processor, ready_at, started_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

inline constexpr const char* kEndExecution =
    "UPDATE execution SET ended_at = ?3, outcome = ?4, reason = ?5 WHERE step = ?1 AND fence = ?2";

inline constexpr const char* kFinishCompleted =
    "UPDATE step SET phase = 4, processor = NULL, finished_at = ?3, reason = NULL "
    "WHERE id = ?1 AND phase = 3 AND fence = ?2";

// Whether a step has successors: finish runs kActivateNext only then. That UPDATE … WHERE id IN
// (subquery) RETURNING opens three ephemeral b-trees even when it matches no row (the last steps
// of every session); skipping it takes 29% off a single-step cycle's instructions (callgrind,
// bench/sqlite_cycle.cpp). This probe is one index lookup.
inline constexpr const char* kHasNext = "SELECT EXISTS (SELECT 1 FROM step_next WHERE step = ?1)";

inline constexpr const char* kActivateNext =
    "UPDATE step SET deps_left = deps_left - 1, "
    "activated_at = CASE WHEN deps_left = 1 THEN ?2 ELSE activated_at END, "
    "ready_at = CASE WHEN deps_left = 1 AND phase = 0 THEN ?2 ELSE ready_at END, "
    "phase = CASE WHEN deps_left = 1 AND phase = 0 THEN 2 ELSE phase END "
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

inline constexpr const char* kFinishFailed =
    "UPDATE step SET phase = 5, processor = NULL, finished_at = ?3, reason = ?4 "
    "WHERE id = ?1 AND phase = 3 AND fence = ?2";

inline constexpr const char* kFinishWait =
    "UPDATE step SET phase = 1, processor = NULL, not_before = ?3, attempt = attempt + ?4, reason = ?5 "
    "WHERE id = ?1 AND phase = 3 AND fence = ?2";

inline constexpr const char* kPromote =
    "UPDATE step SET phase = 2, ready_at = not_before WHERE phase = 1 AND not_before <= ?1 RETURNING kind";

}  // namespace stepq::sqlite::sql
