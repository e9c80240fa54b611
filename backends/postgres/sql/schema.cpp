#include "schema.hpp"

#include "backends/live/phase_sql.hpp"

namespace stepq::pg::sql {

// The same tables as SQLite's (backends/sqlite/sql/schema.cpp), in PostgreSQL's types. Differences:
// - Times are the server's clock (stepq_now(), seconds since the epoch): with workers on many
//   machines, one clock orders claims after the commits that made their steps READY.
// - step.token / session.token: a random value per claim or submission, so that a write whose
//   connection dropped before its result arrived can be looked up after reconnecting (it
//   committed or it did not) instead of being done twice.
// - The step table is vacuumed early: every claim and finish leaves a dead tuple, and dead
//   tuples in the READY index are what slows SKIP LOCKED queues down (research/queues.md §2).
static_assert(live::all_between(Phase::DORMANT, Phase::CANCELLED), "step.phase's CHECK must admit every phase");
// clang-format off
static const char* const kV1 = R"sql(
CREATE FUNCTION stepq_now() RETURNS double precision LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$ SELECT date_part('epoch', clock_timestamp()) $$;

CREATE TABLE kind (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE template (id serial PRIMARY KEY, name text NOT NULL UNIQUE, steps int NOT NULL);

CREATE TABLE session (
  id bigint PRIMARY KEY,
  template int NOT NULL REFERENCES template(id),
  phase text NOT NULL CHECK (phase IN ('ACTIVE', 'COMPLETED', 'FAILED', 'CANCELLED')),
  steps_left int NOT NULL,
  created_at double precision NOT NULL,
  finished_at double precision,
  reason text,
  token bigint);
CREATE INDEX session_active ON session(id) WHERE phase = 'ACTIVE';

CREATE TABLE step (
  id bigint PRIMARY KEY,
  session bigint NOT NULL REFERENCES session(id),
  num int NOT NULL,
  tmpl int NOT NULL,
  kind int NOT NULL REFERENCES kind(id),
  phase smallint NOT NULL CHECK (phase BETWEEN )sql" STEPQ_SQL_DORMANT R"sql( AND )sql" STEPQ_SQL_CANCELLED R"sql(),
  deps_left int NOT NULL,
  attempt int NOT NULL DEFAULT 1,
  max_attempts int NOT NULL,
  fence bigint NOT NULL DEFAULT 0,
  processor bigint,
  token bigint,
  not_before double precision,
  created_at double precision NOT NULL,
  activated_at double precision,
  ready_at double precision,
  claimed_at double precision,
  finished_at double precision,
  reason text,
  CHECK ((phase = )sql" STEPQ_SQL_RUNNING R"sql() = (processor IS NOT NULL)))
  WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX step_ready ON step(kind, ready_at, id) WHERE phase = )sql" STEPQ_SQL_READY R"sql(;
CREATE INDEX step_running ON step(processor) WHERE phase = )sql" STEPQ_SQL_RUNNING R"sql(;
CREATE INDEX step_waiting ON step(not_before) WHERE phase = )sql" STEPQ_SQL_WAITING R"sql(;
CREATE INDEX step_session ON step(session);

CREATE TABLE step_next (step bigint NOT NULL, next bigint NOT NULL, PRIMARY KEY (step, next));

CREATE TABLE processor (
  id bigserial PRIMARY KEY,
  host text NOT NULL,
  pid bigint NOT NULL,
  pools text NOT NULL,
  started_at double precision NOT NULL,
  heartbeat_at double precision NOT NULL,
  stopped_at double precision,
  stop_reason text,
  reconnects int NOT NULL DEFAULT 0,
  reconnected_at double precision);

CREATE TABLE execution (
  step bigint NOT NULL,
  fence bigint NOT NULL,
  kind int NOT NULL,
  attempt int NOT NULL,
  processor bigint NOT NULL,
  ready_at double precision NOT NULL,
  started_at double precision NOT NULL,
  ended_at double precision,
  outcome text,
  reason text,
  PRIMARY KEY (step, fence));
CREATE INDEX execution_open ON execution(processor) WHERE ended_at IS NULL;

CREATE TABLE submission (
  id bigserial PRIMARY KEY,
  planned bigint NOT NULL,
  submitted bigint NOT NULL DEFAULT 0,
  started_at double precision NOT NULL,
  heartbeat_at double precision NOT NULL,
  finished_at double precision);
)sql";
// clang-format on

// v2: the partial indexes of RUNNING steps and open executions are keyed by the row's own key.
// Keyed by processor, the planner took them for the completion's `id = $1 AND phase = 3` (one
// entry per running step looks cheaper than the primary key) and walked every entry, dead ones
// included: ~20 per completion at 16 workers. The reaper's and release's look-ups by processor
// read the few running steps in full instead.
// clang-format off
static const char* const kV2 = R"sql(
DROP INDEX step_running;
CREATE INDEX step_running ON step(id) WHERE phase = )sql" STEPQ_SQL_RUNNING R"sql(;
DROP INDEX execution_open;
CREATE INDEX execution_open ON execution(step, fence) WHERE ended_at IS NULL;
)sql";
// clang-format on

// v3 (issue 14): a session's life beyond start-up and the capacity behind the platform, as in
// SQLite's v2 (backends/sqlite/sql/schema.cpp says what each column is for).
static const char* const kV3 = R"sql(
ALTER TABLE session
  ADD COLUMN release_left int NOT NULL DEFAULT 0,
  ADD COLUMN release_from int,
  ADD COLUMN release_all boolean NOT NULL DEFAULT false,
  ADD COLUMN started_at double precision,
  ADD COLUMN outcome text CHECK (outcome IN ('COMPLETED', 'FAILED', 'CANCELLED')),
  ADD COLUMN run_s double precision NOT NULL DEFAULT 0,
  ADD COLUMN owner bigint NOT NULL DEFAULT 0,
  ADD COLUMN cluster text,
  ADD COLUMN cores double precision NOT NULL DEFAULT 0,
  ADD COLUMN memory_gb double precision NOT NULL DEFAULT 0,
  ADD COLUMN compute text CHECK (compute IN ('queued', 'placed', 'released')),
  ADD COLUMN node int,
  ADD COLUMN submitted_at double precision,
  ADD COLUMN admitted_at double precision,
  ADD COLUMN running_at double precision;
UPDATE session SET started_at = finished_at WHERE phase = 'COMPLETED';
CREATE INDEX session_queued ON session(cluster, submitted_at, id) WHERE compute = 'queued';
CREATE INDEX session_holding ON session(cluster, owner) WHERE compute IN ('queued', 'placed');

CREATE TABLE cluster_node (
  cluster text NOT NULL,
  node int NOT NULL,
  cores double precision NOT NULL,
  memory_gb double precision NOT NULL,
  free_cores double precision NOT NULL,
  free_memory_gb double precision NOT NULL,
  PRIMARY KEY (cluster, node));
CREATE TABLE storage_area (name text PRIMARY KEY, quota_bytes double precision NOT NULL, free_bytes double precision NOT NULL);
CREATE TABLE reservation (
  session bigint NOT NULL,
  num int NOT NULL,
  area text NOT NULL,
  bytes double precision NOT NULL,
  temp boolean NOT NULL,
  PRIMARY KEY (session, num));

-- Admission on the server: one round trip per launch or delete instead of eight or more (each
-- a step's service in live mode: the twin test saw launch waits 10-20% above the simulator's).
-- The policy is core/cluster.hpp's ClusterState, which the simulator and SQLite run; the
-- conformance suite holds the two to the same placements. Every caller has locked the
-- cluster's node rows (in node order) first.
CREATE FUNCTION stepq_admit(cl text, fifo boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  q record;
  n int;
BEGIN
  FOR q IN SELECT id, cores, memory_gb FROM session WHERE cluster = cl AND compute = 'queued'
           ORDER BY submitted_at, id LOOP
    SELECT node INTO n FROM cluster_node
      WHERE cluster = cl AND free_cores + 1e-9 >= q.cores AND free_memory_gb + 1e-9 >= q.memory_gb
      ORDER BY node LIMIT 1;
    IF n IS NULL THEN
      IF fifo THEN EXIT; END IF;  -- the oldest blocks those behind it
      CONTINUE;
    END IF;
    UPDATE cluster_node SET free_cores = free_cores - q.cores, free_memory_gb = free_memory_gb - q.memory_gb
      WHERE cluster = cl AND node = n;
    UPDATE session SET compute = 'placed', node = n, admitted_at = stepq_now() WHERE id = q.id;
  END LOOP;
END $$;

-- A launch: the session's request joins its cluster's queue, unless its user already holds
-- user_limit (0: none) sessions there; then what fits is placed. Returns false when refused.
-- Idempotent: a session submitted before is left as it is.
CREATE FUNCTION stepq_submit(s bigint, user_limit int, fifo boolean) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  cl text;
  own bigint;
  st text;
BEGIN
  SELECT cluster, owner INTO cl, own FROM session WHERE id = s;
  IF cl IS NULL THEN RETURN true; END IF;
  PERFORM 1 FROM cluster_node WHERE cluster = cl ORDER BY node FOR UPDATE;
  SELECT compute INTO st FROM session WHERE id = s FOR UPDATE;
  IF st IS NOT NULL THEN RETURN true; END IF;
  IF user_limit > 0 AND (SELECT count(*) FROM session WHERE cluster = cl AND owner = own
                         AND compute IN ('queued', 'placed')) >= user_limit THEN
    RETURN false;
  END IF;
  UPDATE session SET compute = 'queued', submitted_at = stepq_now() WHERE id = s;
  PERFORM stepq_admit(cl, fifo);
  RETURN true;
END $$;

-- A delete: the session's cores and memory back (or out of the queue), then what fits is placed.
CREATE FUNCTION stepq_release(s bigint, fifo boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cl text;
  st text;
  nd int;
  c double precision;
  m double precision;
BEGIN
  SELECT cluster INTO cl FROM session WHERE id = s AND compute IN ('queued', 'placed');
  IF cl IS NULL THEN RETURN; END IF;
  PERFORM 1 FROM cluster_node WHERE cluster = cl ORDER BY node FOR UPDATE;
  SELECT compute, node, cores, memory_gb INTO st, nd, c, m FROM session WHERE id = s FOR UPDATE;
  IF st IS NULL OR st NOT IN ('queued', 'placed') THEN RETURN; END IF;
  UPDATE session SET compute = 'released' WHERE id = s;
  IF st = 'placed' THEN
    UPDATE cluster_node SET free_cores = free_cores + c, free_memory_gb = free_memory_gb + m
      WHERE cluster = cl AND node = nd;
  END IF;
  PERFORM stepq_admit(cl, fifo);
END $$;
)sql";

// v4 (issue 16): the emulated platform's network, as SQLite's v3 (backends/sqlite/sql/schema.cpp).
// Whoever advances it locks link_clock's row first, so that advances run one at a time.
static_assert(live::all_between(FluidLinks::Phase::delayed, FluidLinks::Phase::done),
              "transfer.phase's CHECK must admit every phase");
// clang-format off
static const char* const kV4 = R"sql(
CREATE TABLE link_clock (id int PRIMARY KEY CHECK (id = 1), at double precision NOT NULL);
INSERT INTO link_clock VALUES (1, 0);
CREATE TABLE transfer (
  id bigint PRIMARY KEY,
  session bigint NOT NULL,
  num int NOT NULL,
  attempt int NOT NULL,
  route int NOT NULL,
  links text NOT NULL,
  bytes double precision NOT NULL,
  left_bytes double precision NOT NULL,
  phase smallint NOT NULL CHECK (phase BETWEEN )sql" STEPQ_SQL_TRANSFER_DELAYED R"sql( AND )sql" STEPQ_SQL_TRANSFER_DONE R"sql(),
  at double precision NOT NULL,
  held int NOT NULL,
  arrived_at double precision,
  started_at double precision,
  UNIQUE (session, num, attempt));
CREATE INDEX transfer_open ON transfer(id) WHERE phase < )sql" STEPQ_SQL_TRANSFER_DONE R"sql(;
)sql";
// clang-format on

// v5 (issue 17): recorded forecasts, as SQLite's v4 (backends/sqlite/sql/schema.cpp).
static const char* const kV5 = R"sql(
CREATE TABLE forecast (
  session bigint NOT NULL,
  made_at double precision NOT NULL,
  p50_at double precision,
  p95_at double precision,
  queue_blind_s double precision NOT NULL,
  time_scale double precision NOT NULL,
  PRIMARY KEY (session, made_at));
)sql";

// v6 (issue 19): `live status`'s summary of sealed sessions, as SQLite's v5.
static const char* const kV6 = R"sql(
CREATE TABLE status_cache (id int PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL, summary text NOT NULL);
INSERT INTO status_cache VALUES (1, 0, '');
)sql";

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> m{kV1, kV2, kV3, kV4, kV5, kV6};
  return m;
}

}  // namespace stepq::pg::sql
