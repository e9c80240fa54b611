#include "schema.hpp"

#include "backends/live/phase_sql.hpp"

namespace stepq::sqlite::sql {

// Phases are integers (backends/live/phase_sql.hpp) so that the partial indexes test a literal
// the planner can prove. Times are wall seconds since the epoch (REAL).
static_assert(live::all_between(Phase::DORMANT, Phase::CANCELLED), "step.phase's CHECK must admit every phase");
// clang-format off
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
  phase INTEGER NOT NULL CHECK (phase BETWEEN )sql" STEPQ_SQL_DORMANT R"sql( AND )sql" STEPQ_SQL_CANCELLED R"sql(),
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
  CHECK ((phase = )sql" STEPQ_SQL_RUNNING R"sql() = (processor IS NOT NULL))) STRICT;
CREATE INDEX step_ready ON step(kind, ready_at, id) WHERE phase = )sql" STEPQ_SQL_READY R"sql(;
CREATE INDEX step_running ON step(processor) WHERE phase = )sql" STEPQ_SQL_RUNNING R"sql(;
CREATE INDEX step_waiting ON step(not_before) WHERE phase = )sql" STEPQ_SQL_WAITING R"sql(;
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
// clang-format on

// v2 (issue 14): a session's life beyond start-up, and the capacity behind the platform.
// A template with release steps keeps its session ACTIVE after start-up (started_at) and after a
// failure or cancel (outcome) until the release steps are done; then phase = outcome.
// steps_left counts start-up steps, release_left release steps. The session's request on its
// cluster and its place in the admission queue (compute: queued → placed → released) live in its
// row; the nodes' free cores and memory in cluster_node, so that every process shares them.
static const char* const kV2 = R"sql(
ALTER TABLE session ADD COLUMN release_left INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN release_from INTEGER;  -- the first release step's num: start-up steps come before
ALTER TABLE session ADD COLUMN release_all INTEGER NOT NULL DEFAULT 0;  -- dependencies "recheck": all READY at once
ALTER TABLE session ADD COLUMN started_at REAL;
ALTER TABLE session ADD COLUMN outcome TEXT CHECK (outcome IN ('COMPLETED', 'FAILED', 'CANCELLED'));
ALTER TABLE session ADD COLUMN run_s REAL NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN owner INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN cluster TEXT;
ALTER TABLE session ADD COLUMN cores REAL NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN memory_GB REAL NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN compute TEXT CHECK (compute IN ('queued', 'placed', 'released'));
ALTER TABLE session ADD COLUMN node INTEGER;
ALTER TABLE session ADD COLUMN submitted_at REAL;
ALTER TABLE session ADD COLUMN admitted_at REAL;
ALTER TABLE session ADD COLUMN running_at REAL;
UPDATE session SET started_at = finished_at WHERE phase = 'COMPLETED';
CREATE INDEX session_queued ON session(cluster, submitted_at, id) WHERE compute = 'queued';
CREATE INDEX session_holding ON session(cluster, owner) WHERE compute IN ('queued', 'placed');

CREATE TABLE cluster_node (
  cluster TEXT NOT NULL,
  node INTEGER NOT NULL,
  cores REAL NOT NULL,
  memory_GB REAL NOT NULL,
  free_cores REAL NOT NULL,
  free_memory_GB REAL NOT NULL,
  PRIMARY KEY (cluster, node)) STRICT, WITHOUT ROWID;

CREATE TABLE storage_area (name TEXT PRIMARY KEY, quota_bytes REAL NOT NULL, free_bytes REAL NOT NULL) STRICT, WITHOUT ROWID;

-- What storage steps reserved; temp = WriteTemp, given back by the session's cleanup.
CREATE TABLE reservation (
  session INTEGER NOT NULL,
  num INTEGER NOT NULL,
  area TEXT NOT NULL,
  bytes REAL NOT NULL,
  temp INTEGER NOT NULL,
  PRIMARY KEY (session, num)) STRICT, WITHOUT ROWID;
)sql";

// v3 (issue 16): the emulated platform's network, shared by every process. One row per transfer
// over the scenario's links (core/fluid_links.hpp): phase 0 delayed (a rule's delay), 1 waiting
// for an FTS slot, 2 in its route's latency, 3 flowing, 4 done; left_bytes as of link_clock.at;
// `at` the time its phase names (due, waiting since, bytes start, ended); `held` its slots. And
// processor.reconnects, always 0 here, so that both databases answer the same status queries.
static_assert(live::all_between(FluidLinks::Phase::delayed, FluidLinks::Phase::done),
              "transfer.phase's CHECK must admit every phase");
// clang-format off
static const char* const kV3 = R"sql(
CREATE TABLE link_clock (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL) STRICT;
INSERT INTO link_clock VALUES (1, 0);
CREATE TABLE transfer (
  id INTEGER PRIMARY KEY,
  session INTEGER NOT NULL,
  num INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  route INTEGER NOT NULL,  -- index into the bound scenario's platform.routes
  links TEXT NOT NULL,     -- its links' names, comma-separated: what `live status` reports by
  bytes REAL NOT NULL,
  left_bytes REAL NOT NULL,
  phase INTEGER NOT NULL CHECK (phase BETWEEN )sql" STEPQ_SQL_TRANSFER_DELAYED R"sql( AND )sql" STEPQ_SQL_TRANSFER_DONE R"sql(),
  at REAL NOT NULL,
  held INTEGER NOT NULL,
  arrived_at REAL,
  started_at REAL,
  UNIQUE (session, num, attempt)) STRICT;
CREATE INDEX transfer_open ON transfer(id) WHERE phase < )sql" STEPQ_SQL_TRANSFER_DONE R"sql(;

-- An embedded database never loses its connection; the column is there so that `live status`
-- reads the same fields from either database (backends/live/store_status.cpp).
ALTER TABLE processor ADD COLUMN reconnects INTEGER NOT NULL DEFAULT 0;
)sql";
// clang-format on

// v4 (issue 17): what `stepq forecast --record` forecast, one row per session per forecast, so
// that `live status` can set what happened beside it. p50_at, p95_at: wall-clock times by which
// the session's start-up is forecast complete (NULL: it failed in every replication);
// queue_blind_s: the broker's prepare cost for its template, scenario seconds.
static const char* const kV4 = R"sql(
CREATE TABLE forecast (
  session INTEGER NOT NULL,
  made_at REAL NOT NULL,
  p50_at REAL,
  p95_at REAL,
  queue_blind_s REAL NOT NULL,
  time_scale REAL NOT NULL,
  PRIMARY KEY (session, made_at)) STRICT, WITHOUT ROWID;
)sql";

// v5 (issue 19): `live status`'s summary of sealed sessions (backends/live/status_summary.hpp),
// one row; generation counts its writes, so that a status writes only over the one it read.
static const char* const kV5 = R"sql(
CREATE TABLE status_cache (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL, summary TEXT NOT NULL)
  STRICT;
INSERT INTO status_cache VALUES (1, 0, '');
)sql";

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> m{kV1, kV2, kV3, kV4, kV5};
  return m;
}

}  // namespace stepq::sqlite::sql
