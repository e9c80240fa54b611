#!/usr/bin/env bash
# The twin tests on SQLite and on PostgreSQL side by side (tests/CMakeLists.txt): each spends its
# ~100 s mostly waiting on scaled wall-clock time, so together they cost the suite the time of one.
# They still run apart from every other test (RUN_SERIAL): a CPU-bound test beside them slows the
# engine's wake-ups and lengthens its waits by ~15%. Each one's output is printed whole after both
# end, so that a failure reads as it would alone.
# Usage: twins.sh SQLITE_TWIN_BINARY POSTGRES_TWIN_BINARY
set -u
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$1" >"$out/sqlite" 2>&1 &
sqlite=$!
"$2" >"$out/postgres" 2>&1 &
postgres=$!
wait "$sqlite"
sqlite_status=$?
wait "$postgres"
postgres_status=$?
echo "== SQLite twin (exit $sqlite_status)"
cat "$out/sqlite"
echo "== PostgreSQL twin (exit $postgres_status)"
cat "$out/postgres"
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
