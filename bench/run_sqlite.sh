#!/usr/bin/env bash
# Claim→finish cycles per second on SQLite (WAL, synchronous=NORMAL): stepq's queue code vs a
# bare loop running the same SQL (bench/sqlite_cycle.cpp), 1 and 4 threads, runs interleaved.
# Usage: bench/run_sqlite.sh [REPEATS] [CYCLES]   (after scripts/setup.sh). Medians of REPEATS.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-5}
N=${2:-20000}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { build/bench/sqlite_cycle "$1" "$2" "$N" | sed -E 's/.*"cycles_per_s": ([0-9]+).*/\1/'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); SQLite $(sqlite3 --version | cut -d' ' -f1)"
for t in 1 4; do
  : > /tmp/stepq-bench-ours.$t
  : > /tmp/stepq-bench-bare.$t
  for i in $(seq "$R"); do
    rate stepq "$t" >> /tmp/stepq-bench-ours.$t
    rate bare "$t" >> /tmp/stepq-bench-bare.$t
  done
  ours=$(median < /tmp/stepq-bench-ours.$t)
  bare=$(median < /tmp/stepq-bench-bare.$t)
  echo "$t thread(s), $N cycles: stepq $ours cycles/s, bare SQLite $bare cycles/s, ratio $(python3 -c "print(round($ours/$bare, 2))")"
done
