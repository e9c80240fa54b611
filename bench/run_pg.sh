#!/usr/bin/env bash
# Claim→finish cycles per second on PostgreSQL (synchronous_commit on): stepq's queue code
# (bench/pg_cycle.cpp: PgStore, a connection per thread) vs pgbench running the same two
# statements (`pg_cycle script`), at 1, 4 and 16 concurrent workers, on a throwaway server
# (scripts/pg_server.sh). Then the same with 1M finished steps (and their execution rows) in the
# tables. Each run drains a fresh batch of READY single-step sessions; runs interleaved so that a
# noisy neighbour hits both alike. Prints every run, then medians and ratios.
# The small database holds SMALL finished steps, not none: `reset` vacuums and analyzes, and
# statistics of an empty execution table left pgbench's cached completion plan scanning that
# table as it grew (398 cycles/s at 1 worker against 900 with statistics of a non-empty table;
# stepq re-plans, backends/postgres/pg.cpp). Compare client code on plans both get right.
# Usage: bench/run_pg.sh [REPEATS] [CYCLES] [FINISHED] [SMALL]  (after a Release build in build/).
# Default 3, 20000, 1000000, 10000: about 8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}
N=${2:-20000}
F=${3:-1000000}
SMALL=${4:-10000}
bin=build/bench/pg_cycle
cmake --build build -j2 --target pg_cycle >/dev/null  # bench programs are not in the default build
tmp=$(mktemp -d /tmp/stepq-bench-pg.XXXXXX)
chmod 755 "$tmp"
server=$(scripts/pg_server.sh start "$tmp/pg")
trap 'scripts/pg_server.sh stop "$tmp/pg"; rm -rf "$tmp"' EXIT
base=${server%/postgres}
# `reset` vacuums before every run; autovacuum waking up on the other database in the middle of
# a run made the first run of every round 2x slower.
psql -q "$server" -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(pgbench --version)"
"$bin" script > "$tmp/cycle.sql"
extra=$((N / 20 + 100))   # READY rows beyond the run's cycles: a claim never finds them all locked
for db in small history; do
  finished=$SMALL; [ $db = history ] && finished=$F
  "$bin" seed "$base/$db" "$finished"
  [ "$(psql "$base/$db" -Atc "SELECT id FROM kind WHERE name = 'work'")" = 1 ] || { echo "kind id is not 1" >&2; exit 1; }
done
for i in $(seq "$R"); do
  for db in small history; do
    for t in 1 4 16; do
      # Alternate which goes first, so that whatever the first run of a pair meets hits both.
      order="stepq pgbench"; [ $((i % 2)) = 0 ] && order="pgbench stepq"
      for v in $order; do
        "$bin" reset "$base/$db" $((N + extra))
        if [ $v = stepq ]; then
          line=$("$bin" stepq "$t" "$base/$db" "$N")
          echo "$db $line"
          echo "$line" | sed -E 's/.*"cycles_per_s": ([0-9]+).*/\1/' >> "$tmp/stepq.$db.$t"
          echo "$line" | sed -E 's/.*"client_cpu_us_per_cycle": ([0-9.]+).*/\1/' >> "$tmp/stepq_cpu.$db.$t"
        else
          out=$(/usr/bin/time -f "cpu %U %S" pgbench -n -M prepared -f "$tmp/cycle.sql" -c "$t" -j 2 -t $((N / t)) "$base/$db" 2>&1)
          cpu=$(echo "$out" | sed -nE 's/^cpu ([0-9.]+) ([0-9.]+)$/\1 \2/p' | awk -v n=$N '{printf "%.1f", 1e6 * ($1 + $2) / n}')
          tps=$(echo "$out" | sed -nE 's/^tps = ([0-9.]+) \(without.*/\1/p')
          failed=$(echo "$out" | sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p')
          echo "$db {\"variant\": \"pgbench\", \"threads\": $t, \"cycles_per_s\": ${tps%.*}, \"client_cpu_us_per_cycle\": $cpu, \"failed\": ${failed:-0}}"
          [ "${failed:-0}" = 0 ] || { echo "$out" >&2; exit 1; }
          echo "${tps%.*}" >> "$tmp/pgbench.$db.$t"
          echo "$cpu" >> "$tmp/pgbench_cpu.$db.$t"
        fi
      done
    done
  done
done
echo "medians of $R runs, $N cycles each (cycles/s), synchronous_commit on:"
for db in small history; do
  for t in 1 4 16; do
    ours=$(median < "$tmp/stepq.$db.$t")
    theirs=$(median < "$tmp/pgbench.$db.$t")
    echo "  $db, $t worker(s): stepq $ours; pgbench $theirs; ratio $(python3 -c "print(round($ours/$theirs, 2))");" \
         "client CPU per cycle: stepq $(median < "$tmp/stepq_cpu.$db.$t") µs, pgbench $(median < "$tmp/pgbench_cpu.$db.$t") µs"
  done
done
for t in 1 4 16; do
  e=$(median < "$tmp/stepq.small.$t"); h=$(median < "$tmp/stepq.history.$t")
  echo "  stepq with $F finished steps vs $SMALL, $t worker(s): $(python3 -c "print(round($h/$e, 2))")"
done
