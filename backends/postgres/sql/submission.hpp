// PostgreSQL's submission SQL: the scenario's kinds and templates as bind() records them (and
// reads back the templates of unfinished sessions to check them), a new session with its steps
// and edges sent as one text with its commit, and the progress row of a `live submit` run.
#pragma once
#include <cstdint>
#include <string>

namespace stepq::pg::sql {

inline constexpr const char* kInsertKind = "INSERT INTO kind(name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
inline constexpr const char* kKindId = "SELECT id FROM kind WHERE name = $1";

inline constexpr const char* kUpsertTemplate =
    "INSERT INTO template(name, steps) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET steps = $2 RETURNING id";

// The templates of unfinished sessions, each with one session that shows its steps and edges.
inline constexpr const char* kActiveTemplates =
    "SELECT t.name, min(s.id) FROM session s JOIN template t ON t.id = s.template WHERE s.phase = 'ACTIVE' GROUP "
    "BY t.name";
inline constexpr const char* kStoredStepKinds =
    "SELECT k.name FROM step st JOIN kind k ON k.id = st.kind WHERE st.session = $1 ORDER BY st.num";
inline constexpr const char* kStoredEdges =
    "SELECT b.num, a.num FROM step_next e JOIN step a ON a.id = e.step JOIN step b ON b.id = e.next WHERE "
    "a.session = $1";

// After a connection dropped during a submission: did it commit? $1 its token.
inline constexpr const char* kSessionByToken = "SELECT id FROM session WHERE token = $1";

// The next session and step ids, under a lock that one submitter at a time holds: session ids are
// dense (0, 1, 2, …) as in simulation, since an id picks the template and the random streams.
// An advisory lock key: see schema.hpp.
inline constexpr std::int64_t kLockSubmit = 0x7374657000000002;
inline std::string next_ids() {
  return "SELECT pg_advisory_xact_lock(" + std::to_string(kLockSubmit) +
         "); SELECT (SELECT coalesce(max(id) + 1, 0) FROM session), (SELECT coalesce(max(id), 0) + 1 FROM step)";
}

// The transaction's start: one time for a session and its steps, as SQLite's submit reads the
// clock once.
inline constexpr const char* kTransactionStart = "date_part('epoch', now())";

// The statements below are parts of one text. `values`: SQL literals, in the columns' order.
inline std::string insert_session(const std::string& values) {
  return "INSERT INTO session(id, template, phase, steps_left, release_left, release_from, release_all, created_at, "
         "token, "
         "run_s, owner, cluster, cores, memory_gb) VALUES (" +
         values + ");";
}
// `rows`: "(…),(…)", each the columns' SQL literals in order.
inline std::string insert_steps(const std::string& rows) {
  return "INSERT INTO step(id, session, num, tmpl, kind, phase, deps_left, max_attempts, created_at, activated_at, "
         "ready_at) VALUES " +
         rows + ";";
}
inline std::string insert_edges(const std::string& rows) {
  return "INSERT INTO step_next(step, next) VALUES " + rows + ";";
}
// A submission is not the hot path: it may notify in its own commit.
inline std::string notify_ready(std::int64_t kind) {
  return "SELECT pg_notify('stepq_ready', '" + std::to_string(kind) + "');";
}

inline constexpr const char* kBeginSubmission =
    "INSERT INTO submission(planned, started_at, heartbeat_at) VALUES ($1, stepq_now(), stepq_now()) RETURNING "
    "id";

// $3: whether the run has finished.
inline constexpr const char* kSubmissionProgress =
    "UPDATE submission SET submitted = $2, heartbeat_at = stepq_now(), "
    "finished_at = CASE WHEN $3 THEN stepq_now() END WHERE id = $1";

}  // namespace stepq::pg::sql
