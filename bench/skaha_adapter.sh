#!/usr/bin/env bash
# The skaha adapter against its loopback server (tests/skaha/skaha_server.py): steps per second
# through `stepq live run`, and the latency each HTTP call adds to a step. A run: a fresh server
# and database, N sessions of image → launch → poll, release delete, all four kinds on skaha
# (Skaha sessions Pending 0 s, Running 0 s); then the same N sessions with every kind emulated at
# service time 0: the engine's own cost per step. Added latency per call = (Σ skaha step
# durations − the same steps at the emulated mean) / HTTP calls; the server's own time per call
# is shown beside it. Rates are over the busy span (first claim to last finish). Two shapes:
# "parallel" (4 threads per kind: throughput) and "serial" (one thread for all kinds: one call at
# a time, the unloaded latency). Prints every run, then medians. About 1 min.
# Usage: bench/skaha_adapter.sh [REPEATS] [SESSIONS] [BUILD_DIR]   (default 3, 200, build)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}
N=${2:-200}
B=${3:-build}
bin=$PWD/$B/stepq
tmp=$(mktemp -d /tmp/stepq-bench-skaha.XXXXXX)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# scenario THREADS_KEY [POOLS_KEY]: the four kinds, threads per kind or one shared pool.
scenario() {
  cat <<EOF
{"name": "bench", "seed": 1, "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 1}, ${2:-}
 "kinds": {"image": {"op": "image", $1 "service_s": 0},
           "launch": {"op": "launch", $1 "service_s": 0},
           "poll": {"op": "poll", $1 "poll": {"interval_s": 1, "ready_after_s": 0}},
           "delete": {"op": "delete", $1 "service_s": 0}},
 "templates": [{"name": "t", "session": {"run_s": 1},
   "steps": [{"id": "image", "kind": "image"}, {"id": "launch", "kind": "launch", "after": ["image"]},
             {"id": "running", "kind": "poll", "after": ["launch"]}],
   "release": [{"id": "delete", "kind": "delete"}]}]}
EOF
}
scenario '"threads": 4,' > "$tmp/parallel.json"
scenario '' '"pools": {"all": {"threads": 1, "kinds": ["image", "launch", "poll", "delete"]}},' > "$tmp/serial.json"

# run DIR SCENARIO [PLATFORMS]: a fresh database, N sessions, run to the end; prints the wall seconds.
run() {
  mkdir -p "$1"
  (cd "$1" && "$bin" live init -q && "$bin" live submit "$2" --sessions "$N" -q)
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$1" && "$bin" live run "$2" ${3:+--platforms "$3"} --time-scale 0.001 --until-idle -q)
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}

export STEPQ_BENCH_SKAHA_TOKEN=bench-token
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $N sessions per run"
for i in $(seq "$R"); do
  for shape in parallel serial; do
    rm -f "$tmp/port"
    python3 tests/skaha/skaha_server.py "$tmp/port" --token bench-token --pending 0 --run 0 --terminating 0.05 &
    srv=$!
    while [ ! -s "$tmp/port" ]; do sleep 0.05; done
    url="http://127.0.0.1:$(cat "$tmp/port")"
    cat > "$tmp/p.json" <<EOF
{"adapters": {"skaha": {"url": "$url/skaha", "token_env": "STEPQ_BENCH_SKAHA_TOKEN",
                        "image": "images.canfar.net/skaha/astroml:24.03"}},
 "kinds": {"image": {"adapter": "skaha"}, "launch": {"adapter": "skaha"}, "poll": {"adapter": "skaha"},
           "delete": {"adapter": "skaha"}}}
EOF
    d=$tmp/$shape$i
    wall=$(run "$d-skaha" "$tmp/$shape.json" "$tmp/p.json")
    curl -s "$url/_state" > "$d-state.json"
    kill "$srv"
    wait "$srv" 2>/dev/null || true
    srv=
    base=$(run "$d-emulated" "$tmp/$shape.json")
    args=("$shape" "$d-skaha/stepq.db" "$d-emulated/stepq.db" "$d-state.json" "$wall" "$base")
    python3 - "${args[@]}" <<'EOF' | tee -a "$tmp/runs"
import json, sqlite3, sys
shape, sk, em, state = sys.argv[1], sys.argv[2], sys.argv[3], json.load(open(sys.argv[4]))
wall, base = float(sys.argv[5]), float(sys.argv[6])
q = ("SELECT k.name, count(*), sum(e.ended_at - e.started_at) FROM execution e JOIN kind k ON k.id = e.kind "
     "GROUP BY k.name")
s = {k: (n, t) for k, n, t in sqlite3.connect(sk).execute(q)}
e = {k: (n, t) for k, n, t in sqlite3.connect(em).execute(q)}
done = sqlite3.connect(sk).execute("SELECT count(*) FROM step WHERE phase = 4").fetchone()[0]
# The busy span, first claim to last finish: the wall time less start-up and the idle second
# `--until-idle` waits before it stops.
span = sqlite3.connect(sk).execute("SELECT max(ended_at) - min(started_at) FROM execution").fetchone()[0]
bad = sqlite3.connect(sk).execute("SELECT count(*) FROM session WHERE phase != 'COMPLETED'").fetchone()[0]
calls = sum(state["calls"].values())
engine = sum(n * e[k][1] / e[k][0] for k, (n, t) in s.items())
added = (sum(t for n, t in s.values()) - engine) / calls
print(json.dumps({"shape": shape, "steps_per_s": round(done / span, 1), "busy_s": round(span, 2),
                  "wall_s": round(wall, 2),
                  "emulated_wall_s": round(base, 2), "calls": state["calls"], "calls_per_s": round(calls / span, 1),
                  "added_ms_per_call": round(added * 1e3, 3),
                  "server_ms_per_call": round(state["server_s"] / calls * 1e3, 3), "not_completed": bad}))
EOF
  done
done
echo "medians of $R runs:"
for shape in parallel serial; do
  line="  $shape:"
  for k in steps_per_s calls_per_s added_ms_per_call server_ms_per_call; do
    line="$line $k $(grep "\"$shape\"" "$tmp/runs" | sed -E "s/.*\"$k\": ([0-9.]+).*/\1/" | median)"
  done
  echo "$line"
done
