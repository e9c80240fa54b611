#!/bin/sh
# calibrate on a synthetic log of 10^6 executions (500,000 sessions of tests/live/calibrate.json's
# two kinds), written by SQL into a `live init` database: time and peak memory of the read and
# the fits. Usage: bench/calibrate_1m.sh [BUILD_DIR]   (README, "Speed and memory").
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
stepq=${1:-$here/build}/stepq
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$stepq" live init -q
sqlite3 stepq.db <<'SQL'
PRAGMA journal_mode = WAL;
INSERT INTO kind VALUES (1, 'fetch'), (2, 'build');
INSERT INTO template VALUES (1, 't', 2);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499999)
INSERT INTO session (id, template, phase, steps_left, created_at, finished_at, started_at, outcome)
  SELECT i, 1, 'COMPLETED', 0, 1e9 + i / 3.0, 1e9 + i / 3.0 + 3, 1e9 + i / 3.0 + 3, 'COMPLETED' FROM n;
INSERT INTO step (id, session, num, tmpl, kind, phase, deps_left, max_attempts, created_at, activated_at, ready_at,
                  claimed_at, finished_at)
  SELECT 2 * id + k, id, k, 1, k + 1, 4, 0, 4, created_at, created_at, created_at, created_at, created_at + 1
  FROM session, (SELECT 0 AS k UNION ALL SELECT 1);
-- Durations from a hash of the id: spread over 0.2-2.2 s, not one value repeated.
INSERT INTO execution (step, fence, kind, attempt, processor, ready_at, started_at, ended_at, outcome)
  SELECT id, 1, kind, 1, 1, ready_at, claimed_at,
         claimed_at + 0.2 + ((id * 2654435761) % 1000) / 500.0, 'completed' FROM step;
INSERT INTO processor (id, host, pid, pools, started_at, heartbeat_at) VALUES
  (1, 'bench', 1, 'fetch=8,build=8', 1e9, 1e9 + 166670);
SQL
echo "rows: $(sqlite3 stepq.db 'SELECT count(*) FROM execution') executions"
/usr/bin/time -f "calibrate: %e s, %M KB peak RSS" \
  "$stepq" calibrate --scenario "$here/tests/live/calibrate.json" -o fitted.json -q
