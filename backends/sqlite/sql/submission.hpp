// SQLite's submission SQL: the scenario's kinds and templates as bind() records them (and reads
// back the templates of unfinished sessions to check them), a new session with its steps and
// edges, and the progress row of a `live submit` run.
#pragma once

namespace stepq::sqlite::sql {

inline constexpr const char* kInsertKind = "INSERT OR IGNORE INTO kind(name) VALUES (?1)";
inline constexpr const char* kKindId = "SELECT id FROM kind WHERE name = ?1";

inline constexpr const char* kUpsertTemplate =
    "INSERT INTO template(name, steps) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET steps = ?2";
inline constexpr const char* kTemplateId = "SELECT id FROM template WHERE name = ?1";

// The templates of unfinished sessions, each with one session that shows its steps and edges.
inline constexpr const char* kActiveTemplates =
    "SELECT t.id, t.name, min(s.id) FROM session s JOIN template t ON t.id = s.template "
    "WHERE s.phase = 'ACTIVE' GROUP BY t.id";
inline constexpr const char* kStoredStepKinds =
    "SELECT k.name FROM step st JOIN kind k ON k.id = st.kind WHERE st.session = ?1 ORDER BY st.num";
inline constexpr const char* kStoredEdges =
    "SELECT b.num, a.num FROM step_next e JOIN step a ON a.id = e.step JOIN step b ON b.id = e.next WHERE "
    "a.session = ?1";

// Session ids are dense (0, 1, 2, …) as in simulation: an id picks the template and the random streams.
inline constexpr const char* kNextSessionId = "SELECT coalesce(max(id) + 1, 0) FROM session";
inline constexpr const char* kNextStepId = "SELECT coalesce(max(id), 0) + 1 FROM step";

inline constexpr const char* kInsertSession =
    "INSERT INTO session(id, template, phase, steps_left, release_left, created_at, run_s, owner, cluster, cores, "
    "memory_GB, "
    "release_from, release_all) VALUES (?1, ?2, 'ACTIVE', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

inline constexpr const char* kInsertStep =
    "INSERT INTO step(id, session, num, tmpl, kind, phase, deps_left, max_attempts, created_at, activated_at, "
    "ready_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

inline constexpr const char* kInsertEdge = "INSERT INTO step_next(step, next) VALUES (?1, ?2)";

inline constexpr const char* kBeginSubmission =
    "INSERT INTO submission(planned, started_at, heartbeat_at) VALUES (?1, ?2, ?2)";

inline constexpr const char* kSubmissionProgress =
    "UPDATE submission SET submitted = ?2, heartbeat_at = ?3, finished_at = ?4 WHERE id = ?1";

}  // namespace stepq::sqlite::sql
