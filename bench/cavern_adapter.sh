#!/usr/bin/env bash
# The cavern adapter against its loopback VOSpace service (tests/cavern/cavern_server.py): steps
# per second through `stepq live run`, and what it adds per HTTP call. One pool of one thread
# runs a storage step (PUT + GET ?detail=properties) and a release cleanup step (DELETE) per
# session, so steps run one after another and the wall time is their sum. The same scenario with
# every kind emulated (service time 0) is the engine's own cost; the difference, divided by the
# calls the server counted, is the added latency per call (client, network stack and the Python
# server together). Runs interleaved (cavern, emulated); medians of REPEATS.
# Usage: bench/cavern_adapter.sh [REPEATS] [SESSIONS]   (after a Release build in build/, or
# STEPQ=path/to/stepq). Default 3, 300.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}
N=${2:-300}
stepq=$(realpath "${STEPQ:-build/stepq}")
tmp=$(mktemp -d /tmp/stepq-bench-cavern.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cat > "$tmp/s.json" <<JSON
{"name": "cavern-bench", "seed": 1, "sessions": $N,
 "arrivals": {"process": "poisson", "rate_per_s": 1000000},
 "platform": {"storage": {"cavern": {"quota_bytes": 1e12}}},
 "pools": {"p": {"threads": 1, "kinds": ["storage", "clean"]}},
 "kinds": {"storage": {"op": "storage", "service_s": 0}, "clean": {"op": "cleanup", "service_s": 0}},
 "templates": [{"name": "t", "steps": [{"id": "home", "kind": "storage", "area": "cavern", "bytes": 1000,
                                         "mount": "WriteTemp"}],
                "release": [{"id": "clean", "kind": "clean"}]}]}
JSON
python3 tests/cavern/cavern_server.py "$tmp/port" --token bench-token --authority vos://example.org~cavern \
  --dir home/stepq --quota 1000000000 > "$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do [ -f "$tmp/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")"
export STEPQ_BENCH_CAVERN_TOKEN=bench-token
cat > "$tmp/cavern.json" <<JSON
{"adapters": {"cavern": {"url": "$url", "authority_uri": "vos://example.org~cavern", "base": "home/stepq",
                         "token_env": "STEPQ_BENCH_CAVERN_TOKEN"}},
 "kinds": {"storage": {"adapter": "cavern"}, "clean": {"adapter": "cavern"}}}
JSON
echo '{"default": "emulated"}' > "$tmp/emulated.json"
calls() { curl -s "$url/_state" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["requests"].values()))'; }

# One run: a fresh database, N sessions submitted, then the timed `live run`. Prints seconds.
one() {
  local dir="$tmp/run-$1-$2"
  mkdir -p "$dir" && cd "$dir"
  "$stepq" live init > /dev/null
  "$stepq" live submit "$tmp/s.json" --sessions "$N" -q
  local t0 t1
  t0=$(date +%s.%N)
  "$stepq" live run "$tmp/s.json" --platforms "$tmp/$1.json" --time-scale 0.001 --until-idle > /dev/null 2> run.err
  t1=$(date +%s.%N)
  local done_
  done_=$(sqlite3 stepq.db "SELECT count(*) FROM session WHERE phase = 'COMPLETED'")
  [ "$done_" = "$N" ] || { echo "only $done_ of $N sessions completed ($1)" >&2; exit 1; }
  cd - > /dev/null
  python3 -c "print(round($t1 - $t0, 4))"
}

echo "machine: $(nproc) cores; $N sessions, 2 steps each (storage, cleanup), 1 thread"
for i in $(seq "$R"); do
  before=$(calls)
  tc=$(one cavern "$i")
  n=$(( $(calls) - before ))
  te=$(one emulated "$i")
  sps_c=$(python3 -c "print(round(2 * $N / $tc))")
  sps_e=$(python3 -c "print(round(2 * $N / $te))")
  add=$(python3 -c "print(round(($tc - $te) / $n * 1000, 3))")
  echo "run $i: cavern ${tc} s (${sps_c} steps/s, $n calls), emulated ${te} s (${sps_e} steps/s): +${add} ms/call"
  echo "$sps_c" >> "$tmp/c"; echo "$sps_e" >> "$tmp/e"; echo "$add" >> "$tmp/a"
  echo "$(python3 -c "print(round($tc / $n * 1000, 3))")" >> "$tmp/per"
done
echo "medians of $R runs: cavern $(median < "$tmp/c") steps/s, emulated $(median < "$tmp/e") steps/s;"
echo "  added latency $(median < "$tmp/a") ms per call ($(median < "$tmp/per") ms of wall time per call in all)"
