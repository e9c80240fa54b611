#!/usr/bin/env bash
# The 4-step DAG against the bare SimGrid model in instructions (callgrind: deterministic, unlike
# wall time on a shared machine). Prints each program's total for N sessions, its start-up alone
# (stepq: 1 session, bare: 0) and the ratio of what the sessions cost beyond start-up.
# Usage: bench/dag_instructions.sh [SESSIONS]   (default 20000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
cmake --build build -j2 --target bare_dag stepq >/dev/null  # bench programs are not in the default build
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -nE 's/.*Collected : ([0-9]+).*/\1/p'; }
ours=$(count build/stepq simulate bench/dag4.json --sessions "$N" --quiet)
ours0=$(count build/stepq simulate bench/dag4.json --sessions 1 --quiet)
bare=$(count build/bench/bare_dag "$N")
bare0=$(count build/bench/bare_dag 0)
python3 - "$ours" "$ours0" "$bare" "$bare0" "$N" <<'PY'
import sys
o, o0, b, b0, n = map(int, sys.argv[1:])
M = lambda x: f"{x / 1e6:,.1f}M"
print(f"4-step DAG, {n} sessions: stepq {M(o)} instructions (start-up {M(o0)}), bare SimGrid {M(b)} (start-up {M(b0)})")
print(f"ratio: {o / b:.3f} in all, {(o - o0) / (b - b0):.3f} beyond start-up")
PY
