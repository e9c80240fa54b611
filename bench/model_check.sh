#!/usr/bin/env bash
# Runs the model check (tests/model/model_check.hpp; issue 19, item 5) over many seeds: 10^4
# random operations a run by three agent processes, compared with the reference model after each.
# A failing seed prints its sequence shrunk to a minimal one, and STEPQ_MODEL_SEED=N repeats it.
#
# Usage: bench/model_check.sh [RUNS] [sqlite|postgres]   (after scripts/setup.sh; default 10 sqlite)
#   Seeds are drawn at random and printed; the test suite runs seed 1 on each database.
# Exit status: 0 every run matched the model, 1 a run did not.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
db=${2:-sqlite}
case $db in
  sqlite) bin=build/tests/stepq_model_tests filter="model check on SQLite*" ;;
  postgres) bin=build/tests/stepq_pg_model_check filter="model check on PostgreSQL*" ;;
  *) echo "bench/model_check.sh: the database is sqlite or postgres, not '$db'" >&2; exit 2 ;;
esac
[ -x "$bin" ] || { echo "bench/model_check.sh: $bin is not built: run scripts/setup.sh" >&2; exit 2; }
failed=0
for ((r = 1; r <= runs; r++)); do
  seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  start=$(date +%s.%N)
  if out=$(STEPQ_MODEL_SEED=$seed "$bin" "$filter" 2>&1); then result=ok; else result=FAILED; failed=1; fi
  printf '%-9s seed %-10s %6.1f s  %s\n' "$db" "$seed" "$(awk "BEGIN {print $(date +%s.%N) - $start}")" "$result"
  [ "$result" = ok ] || echo "$out" | sed -n '/FAILED/,$p'
done
exit $failed
