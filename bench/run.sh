#!/usr/bin/env bash
# Speed and memory benchmarks of the simulator; prints the figures quoted in the README.
# Usage: bench/run.sh [REPEATS]   (after scripts/setup.sh). Medians of REPEATS runs (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-5}
cmake --build build -j2 --target bare_dag stepq >/dev/null  # bench programs are not in the default build
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
bare=$(for i in $(seq "$R"); do build/bench/bare_dag 200000 | sed -E 's/.*= ([0-9]+) steps\/s/\1/'; done | median)
ours=$(for i in $(seq "$R"); do
  build/stepq simulate bench/dag4.json --sessions 200000 --quiet --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"]["steps_per_wall_s"])'
done | median)
echo "4-step DAG, notify, 200k sessions: bare SimGrid $bare steps/s; stepq $ours steps/s; ratio $(python3 -c "print(round($ours/$bare, 2))")"

skaha=$(for i in $(seq "$R"); do
  /usr/bin/time -f '%e' build/stepq simulate scenarios/skaha-basic.json --sessions 100000 --quiet 2>&1 >/dev/null | tail -1
done | median)
echo "skaha-basic, 100k sessions: median wall ${skaha} s"

# Staging as SRCNet does it (issue 16): rules that hold no thread, replicas, routes, FTS caps.
for sc in skaha-basic srcnet-async; do
  t=$(for i in $(seq "$R"); do
    /usr/bin/time -f '%e %M' build/stepq simulate scenarios/$sc.json --sessions 100000 --quiet 2>&1 >/dev/null | tail -1
  done | sort -g | awk '{w[NR]=$1; m[NR]=$2} END {i=int((NR+1)/2); print w[i], int(m[i]/1024)}')
  echo "$sc, 100k sessions: median wall ${t% *} s, peak RSS ${t#* } MB"
done

# 1M sessions, with the default warm-up removal (it remembers the first half's claims) and without.
for wu in auto none; do
  t=$(/usr/bin/time -f '%e %M' build/stepq simulate scenarios/skaha-basic.json --sessions 1000000 --warmup $wu --quiet \
    2>&1 >/dev/null | tail -1)
  echo "skaha-basic, 1M sessions, --warmup $wu: wall ${t% *} s, peak RSS $((${t#* } / 1024)) MB"
done

# Replications scale over cores: 8 replications of mm4 (200k sessions each), --jobs 1 vs 2.
j1=$(for i in $(seq "$R"); do /usr/bin/time -f '%e' build/stepq simulate scenarios/mm4.json -r 8 -j 1 -q 2>&1 | tail -1; done | median)
j2=$(for i in $(seq "$R"); do /usr/bin/time -f '%e' build/stepq simulate scenarios/mm4.json -r 8 -j 2 -q 2>&1 | tail -1; done | median)
echo "8 replications of mm4: --jobs 1 ${j1} s, --jobs 2 ${j2} s, ratio $(python3 -c "print(round($j2/$j1, 2))")"
