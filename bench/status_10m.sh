#!/bin/sh
# `stepq live status` on a synthetic execution log of ROWS rows (default 10^7, three kinds, one
# every 10 ms), written by SQL into a `live init` database: time and peak memory, three runs.
# Usage: bench/status_10m.sh [ROWS] [BUILD_DIR]   (README, "Speed and memory"; about 1 GB of disk).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-10000000}
stepq=${2:-$here/build}/stepq
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$stepq" live init -q
# Sessions of three steps (kinds a, b, c), each step one completed execution.
sqlite3 stepq.db <<SQL
INSERT INTO kind VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO template VALUES (1, 't', 3);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $rows / 3 - 1)
INSERT INTO session (id, template, phase, steps_left, created_at, finished_at, started_at, outcome)
  SELECT i, 1, 'COMPLETED', 0, 1.7e9 + i * 0.03, 1.7e9 + i * 0.03 + 3, 1.7e9 + i * 0.03 + 3, 'COMPLETED' FROM n;
INSERT INTO step (id, session, num, tmpl, kind, phase, deps_left, max_attempts, created_at, activated_at, ready_at,
                  claimed_at, finished_at)
  SELECT 3 * id + k, id, k, 1, k + 1, 4, 0, 1, created_at, created_at, created_at + k * 0.01,
         created_at + k * 0.01 + 0.5, created_at + k * 0.01 + 1.5
  FROM session, (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2);
INSERT INTO execution (step, fence, kind, attempt, processor, ready_at, started_at, ended_at, outcome)
  SELECT id, 1, kind, 1, 1, ready_at, claimed_at, claimed_at + ((id * 2654435761) % 1000) / 500.0, 'completed'
  FROM step;
SQL
echo "rows: $(sqlite3 stepq.db 'SELECT count(*) FROM execution') executions"
for run in 1 2 3; do
  /usr/bin/time -f "live status: %e s, %M KB peak RSS" "$stepq" live status --json st.json -q
done
