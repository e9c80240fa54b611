#include "schema.hpp"

namespace stepq::pg {

// The same tables as SQLite's (backends/sqlite/schema.cpp), in PostgreSQL's types. Differences:
// - Times are the server's clock (stepq_now(), seconds since the epoch): with workers on many
//   machines, one clock orders claims after the commits that made their steps READY.
// - step.token / session.token: a random value per claim or submission, so that a write whose
//   connection dropped before its result arrived can be looked up after reconnecting (it
//   committed or it did not) instead of being done twice.
// - The step table is vacuumed early: every claim and finish leaves a dead tuple, and dead
//   tuples in the READY index are what slows SKIP LOCKED queues down (research/queues.md §2).
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
  phase smallint NOT NULL CHECK (phase BETWEEN 0 AND 6),
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
  CHECK ((phase = 3) = (processor IS NOT NULL)))
  WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX step_ready ON step(kind, ready_at, id) WHERE phase = 2;
CREATE INDEX step_running ON step(processor) WHERE phase = 3;
CREATE INDEX step_waiting ON step(not_before) WHERE phase = 1;
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

// v2: the partial indexes of RUNNING steps and open executions are keyed by the row's own key.
// Keyed by processor, the planner took them for the completion's `id = $1 AND phase = 3` (one
// entry per running step looks cheaper than the primary key) and walked every entry, dead ones
// included: ~20 per completion at 16 workers. The reaper's and release's look-ups by processor
// read the few running steps in full instead.
static const char* const kV2 = R"sql(
DROP INDEX step_running;
CREATE INDEX step_running ON step(id) WHERE phase = 3;
DROP INDEX execution_open;
CREATE INDEX execution_open ON execution(step, fence) WHERE ended_at IS NULL;
)sql";

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> m{kV1, kV2};
  return m;
}

}  // namespace stepq::pg
