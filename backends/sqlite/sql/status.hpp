// SQLite's own reads for the operator and the engine's exit: whether anything is left to do
// (`--until-idle`), and a session's phase for `live cancel`. The status, history and queue reads
// are the same on both databases: backends/live/store_status.cpp.
#pragma once

namespace stepq::sqlite::sql {

// Idle: no ACTIVE session, and no submission heartbeating since ?1.
inline constexpr const char* kIdle =
    "SELECT EXISTS (SELECT 1 FROM session WHERE phase = 'ACTIVE') OR "
    "EXISTS (SELECT 1 FROM submission WHERE finished_at IS NULL AND heartbeat_at > ?1)";

inline constexpr const char* kSessionPhase = "SELECT phase FROM session WHERE id = ?1";
// Whether the session is giving back what it had (its outcome is set; its release runs).
inline constexpr const char* kSessionReleasing = "SELECT outcome IS NOT NULL FROM session WHERE id = ?1";

// `live status`'s summary of sealed sessions, over the one it read (?1: the summary, ?2: the
// generation read): another status may have stored a newer one meanwhile.
inline constexpr const char* kWriteStatusCache =
    "UPDATE status_cache SET generation = generation + 1, summary = ?1 WHERE id = 1 AND generation = ?2";

}  // namespace stepq::sqlite::sql
