#!/usr/bin/env bash
# Claim→finish cycles per second on SQLite (WAL, synchronous=NORMAL): stepq's queue code vs bare
# loops running the same SQL (bench/sqlite_cycle.cpp), 1 and 4 threads. One seed file, copied for
# every run; runs interleaved (stepq, bare, bare-conn in turn) so that a noisy neighbour hits all
# variants alike. Prints every run, then medians and ratios. About 1.5 min on 2 cores.
# Usage: bench/run_sqlite.sh [REPEATS] [CYCLES]   (after a Release build in build/). Default 5, 20000.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-5}
N=${2:-20000}
bin=build/bench/sqlite_cycle
cmake --build build -j2 --target sqlite_cycle >/dev/null  # bench programs are not in the default build
tmp=$(mktemp -d /tmp/stepq-bench-sqlite.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); SQLite $(sqlite3 --version | cut -d' ' -f1)"
"$bin" seed "$tmp/seed.db" "$N"
variants="stepq bare bare-conn"
for i in $(seq "$R"); do
  for t in 1 4; do
    for v in $variants; do
      line=$("$bin" "$v" "$t" "$tmp/seed.db")
      echo "$line"
      echo "$line" | sed -E 's/.*"cycles_per_s": ([0-9]+).*/\1/' >> "$tmp/$v.$t"
    done
  done
done
echo "medians of $R runs, $N cycles each (cycles/s):"
for t in 1 4; do
  ours=$(median < "$tmp/stepq.$t")
  bare=$(median < "$tmp/bare.$t")
  conn=$(median < "$tmp/bare-conn.$t")
  echo "  $t thread(s): stepq $ours; bare (one connection + mutex) $bare, ratio $(python3 -c "print(round($ours/$bare, 2))");" \
       "bare-conn (a connection per thread) $conn, ratio $(python3 -c "print(round($ours/$conn, 2))")"
done
