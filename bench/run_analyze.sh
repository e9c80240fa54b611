#!/usr/bin/env bash
# How fast `stepq analyze` answers on a 50-kind scenario (target: under 50 ms).
# Usage: bench/run_analyze.sh [REPEATS]   (default 21). Prints medians.
#   1. in process (bench/analyze_50.cpp): parse + analyze + JSON + table, median of 51 runs;
#   2. the whole command, `stepq analyze` on the same scenario written to a file (process start,
#      reading the file, printing), median of REPEATS runs — once the subcommand is wired in.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-21}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cmake --build build -j2 --target analyze_50 stepq >/dev/null
build/bench/analyze_50 51
scenario=$(mktemp --suffix=.json)
trap 'rm -f "$scenario"' EXIT
build/bench/analyze_50 --write "$scenario"
if build/stepq analyze --help >/dev/null 2>&1; then
  ms=$(for i in $(seq "$R"); do
    s=$(date +%s%N); build/stepq analyze "$scenario" --json /dev/null >/dev/null; e=$(date +%s%N)
    echo $(((e - s) / 1000))
  done | median)
  echo "stepq analyze (50 kinds), whole command: median $(python3 -c "print(round($ms / 1000, 2))") ms over $R runs"
else
  echo "stepq analyze is not wired into the CLI yet: only the in-process figure above"
fi
