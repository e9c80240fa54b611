#!/usr/bin/env bash
# The podman adapter against a real Podman service (scripts/podman.sh; started here if it is not
# running): steps per second through `stepq live run`, and how long each podman step takes (the
# libpod calls it makes, from the execution log: ended - started). N sessions of image (pull,
# policy missing: the image is there after the first) -> launch (inspect, create, start) -> poll
# (inspect) and, after 0.5 s, delete (stop, remove); the container runs `sh -c "exit 0"`, so no work of its
# own is timed. Medians over REPEATS runs. Needs root, like scripts/podman.sh.
# Usage: bench/podman_adapter.sh [REPEATS] [SESSIONS] [BUILD_DIR]   (default 3, 50, build)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-3}
N=${2:-50}
B=${3:-build}
bin=$PWD/$B/stepq
env_dir=/tmp/stepq-podman
scripts/podman.sh start "$env_dir" >/dev/null
# shellcheck disable=SC1091
. "$env_dir/env"
tmp=$(mktemp -d /tmp/stepq-bench-podman.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cat >"$tmp/s.json" <<EOF
{"name": "bench", "seed": 1, "sessions": 1, "arrivals": {"process": "poisson", "rate_per_s": 20},
 "kinds": {"image": {"op": "image", "threads": 2, "service_s": 0},
           "launch": {"op": "launch", "threads": 2, "service_s": 0},
           "running": {"op": "poll", "threads": 2, "poll": {"interval_s": 0.1, "ready_after_s": 0}},
           "delete": {"op": "delete", "threads": 2, "service_s": 0}},
 "templates": [{"name": "t", "session": {"run_s": 0.5},
   "steps": [{"id": "image", "kind": "image"}, {"id": "job", "kind": "launch", "after": ["image"]},
             {"id": "running", "kind": "running", "after": ["job"]}],
   "release": [{"id": "remove", "kind": "delete"}]}]}
EOF
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $N sessions per run"
for i in $(seq "$R"); do
  d=$tmp/run$i && mkdir -p "$d"
  cat >"$d/p.json" <<EOF
{"instance": "bench$i-$$", "adapters": {"podman": {"socket": "$SOCKET", "image": "$IMAGE", "tls_verify": false,
 "command": ["/bin/sh", "-c", "exit 0"], "stop_timeout_s": 1}},
 "kinds": {"image": {"adapter": "podman"}, "launch": {"adapter": "podman"}, "running": {"adapter": "podman"},
           "delete": {"adapter": "podman"}}}
EOF
  (cd "$d" && "$bin" live init -q && "$bin" live submit "$tmp/s.json" --sessions "$N" -q &&
    "$bin" live run "$tmp/s.json" --platforms p.json --until-idle -q)
  sqlite3 "$d/stepq.db" "SELECT k.name, avg(e.ended_at - e.started_at) * 1000, count(*) FROM execution e
                         JOIN kind k ON k.id = e.kind GROUP BY k.name;
                         SELECT 'steps/s', count(*) / (max(ended_at) - min(started_at)), 0 FROM execution;
                         SELECT 'completed', count(*), 0 FROM session WHERE phase = 'COMPLETED';" |
    tr '|' ' ' | tee "$d/out" | sed "s/^/run $i: /"
done
echo "medians (ms per step; steps/s over the run):"
for k in image launch running delete steps/s completed; do
  printf '  %-10s %s\n' "$k" "$(cat "$tmp"/run*/out | awk -v k="$k" '$1 == k {print $2}' | median)"
done
