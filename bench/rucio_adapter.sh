#!/usr/bin/env bash
# The rucio adapter against its loopback server (tests/rucio/rucio_srcnet_server.py, rules OK at
# once): data steps per second through `stepq live run`, and the time each HTTP call adds to a
# step. Every data step makes three calls (list its key's rules, create the rule, then on its next
# run read the rule: OK), plus one authentication per run. Per call = the data steps' time inside
# the adapter (the execution log's ended_at - started_at) / the calls the server counted, with
# 1 data thread; steps per second with 1 and 4 threads, from the first data execution's start to
# the last one's end. Medians of REPEATS runs. The Python server (one process: calls queue behind
# each other) is the slower half of each call, so 4 threads gain nothing on it.
# Usage: bench/rucio_adapter.sh [REPEATS] [SESSIONS] [BUILD_DIR]   (default 3, 300, build)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}
N=${2:-300}
bin=${3:-build}/stepq
tmp=$(mktemp -d /tmp/stepq-bench-rucio.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

python3 tests/rucio/rucio_srcnet_server.py "$tmp/port" '{"password": "bench-pw", "replicate_s": 0}' &
server=$!
for _ in $(seq 100); do [ -f "$tmp/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$tmp/port")"
export STEPQ_BENCH_RUCIO_PW=bench-pw
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

for threads in 1 4; do
  for i in $(seq "$R"); do
    d="$tmp/run-$threads-$i"
    mkdir -p "$d"
    cat > "$d/s.json" <<JSON
{"name": "bench", "seed": $i, "sessions": $N, "arrivals": {"process": "poisson", "rate_per_s": 1000},
 "kinds": {"data": {"op": "data", "threads": $threads, "service_s": 0}},
 "templates": [{"name": "t", "steps": [{"id": "in", "kind": "data"}]}]}
JSON
    cat > "$d/p.json" <<JSON
{"instance": "bench-$threads-$i",
 "kinds": {"data": {"adapter": "rucio", "url": "$url", "account": "broker", "username": "ann",
                    "password_env": "STEPQ_BENCH_RUCIO_PW", "rse_expression": "SITE_A_DISK",
                    "did": "testing:bench-$threads-$i-{session}", "poll_interval_s": 0.001}}}
JSON
    calls0=$(curl -s "$url/_state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["calls"])')
    (cd "$d" && "$OLDPWD/$bin" live init -q >/dev/null && "$OLDPWD/$bin" live submit s.json --sessions "$N" -q >/dev/null &&
       "$OLDPWD/$bin" live run s.json --platforms p.json --until-idle -q >/dev/null)
    calls=$(( $(curl -s "$url/_state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["calls"])') - calls0 ))
    read -r done_steps span busy < <(sqlite3 -separator ' ' "$d/stepq.db" \
      "SELECT (SELECT count(*) FROM step WHERE phase = 4), max(ended_at) - min(started_at), sum(ended_at - started_at)
       FROM execution")
    sps=$(python3 -c "print(round($done_steps / $span, 1))")
    ms=$(python3 -c "print(round(1000 * $busy / $calls, 2))")
    echo "threads $threads run $i: $done_steps steps done, $calls calls, $(printf %.2f "$span") s:" \
         "$sps steps/s, $ms ms per call"
    echo "$sps" >> "$tmp/sps.$threads"
    echo "$ms" >> "$tmp/ms.$threads"
  done
done
echo "medians of $R runs, $N data steps each:"
for threads in 1 4; do
  echo "  $threads data thread(s): $(median < "$tmp/sps.$threads") steps/s, $(median < "$tmp/ms.$threads") ms per call"
done
