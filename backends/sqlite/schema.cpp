#include "schema.hpp"

namespace stepq::sqlite {

// Phases are integers (core/phase.hpp order: 0 DORMANT … 6 CANCELLED) so that the partial indexes
// test a literal the planner can prove. Times are wall seconds since the epoch (REAL).
static const char* const kV1 = R"sql(
CREATE TABLE kind (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
CREATE TABLE template (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, steps INTEGER NOT NULL) STRICT;

-- One row per accepted session. id is also the session's index for its random streams.
CREATE TABLE session (
  id INTEGER PRIMARY KEY,
  template INTEGER NOT NULL REFERENCES template(id),
  phase TEXT NOT NULL CHECK (phase IN ('ACTIVE', 'COMPLETED', 'FAILED', 'CANCELLED')),
  steps_left INTEGER NOT NULL,
  created_at REAL NOT NULL,
  finished_at REAL,
  reason TEXT) STRICT;
CREATE INDEX session_active ON session(id) WHERE phase = 'ACTIVE';

-- The queue. fence grows by one per claim: a finish applies only under the fence it claimed.
CREATE TABLE step (
  id INTEGER PRIMARY KEY,
  session INTEGER NOT NULL REFERENCES session(id),
  num INTEGER NOT NULL,
  tmpl INTEGER NOT NULL,
  kind INTEGER NOT NULL REFERENCES kind(id),
  phase INTEGER NOT NULL CHECK (phase BETWEEN 0 AND 6),
  deps_left INTEGER NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 1,
  max_attempts INTEGER NOT NULL,
  fence INTEGER NOT NULL DEFAULT 0,
  processor INTEGER,
  not_before REAL,
  created_at REAL NOT NULL,
  activated_at REAL,
  ready_at REAL,
  claimed_at REAL,
  finished_at REAL,
  reason TEXT,
  CHECK ((phase = 3) = (processor IS NOT NULL))) STRICT;
CREATE INDEX step_ready ON step(kind, ready_at, id) WHERE phase = 2;
CREATE INDEX step_running ON step(processor) WHERE phase = 3;
CREATE INDEX step_waiting ON step(not_before) WHERE phase = 1;
CREATE INDEX step_session ON step(session);

-- The plan's edges: completing `step` counts down `next`.
CREATE TABLE step_next (step INTEGER NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (step, next)) STRICT, WITHOUT ROWID;

CREATE TABLE processor (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  pools TEXT NOT NULL,
  started_at REAL NOT NULL,
  heartbeat_at REAL NOT NULL,
  stopped_at REAL,
  stop_reason TEXT) STRICT;

-- One row per claim: who ran which attempt when, and how it ended. The raw material for checking
-- that no step ran twice at once and for calibrating the simulator.
CREATE TABLE execution (
  step INTEGER NOT NULL,
  fence INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  processor INTEGER NOT NULL,
  ready_at REAL NOT NULL,
  started_at REAL NOT NULL,
  ended_at REAL,
  outcome TEXT,
  reason TEXT,
  PRIMARY KEY (step, fence)) STRICT, WITHOUT ROWID;

CREATE TABLE submission (
  id INTEGER PRIMARY KEY,
  planned INTEGER NOT NULL,
  submitted INTEGER NOT NULL DEFAULT 0,
  started_at REAL NOT NULL,
  heartbeat_at REAL NOT NULL,
  finished_at REAL) STRICT;
)sql";

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> m{kV1};
  return m;
}

}  // namespace stepq::sqlite
