#!/usr/bin/env bash
# Soak (issue 19, item 7; not in CI): live runs on one PostgreSQL database for DURATION seconds.
# Sessions arrive at a steady rate all along; WORKERS `live run` processes work them; every
# KILL_EVERY seconds one worker (never the first) is SIGKILLed and a new one started; every
# RESTART_EVERY seconds the server restarts. Afterwards the log must show every session ended,
# no step completed twice and none run in two places at once, and the first worker, which is
# never killed, must have grown its resident memory by less than 10% since its first minute.
#   bench/soak.sh [DURATION] [KILL_EVERY] [RESTART_EVERY]   (defaults 3600 60 600; after setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-3600}
kill_every=${2:-60}
restart_every=${3:-600}
workers=3
rate=20  # sessions per wall second; crash.json at --time-scale 0.002 runs ~3 steps in ~10 ms each
sc=tests/live/crash.json
dir=$(mktemp -d /tmp/stepq-soak-XXXXXX)
chmod 755 "$dir"  # the server runs as postgres when this runs as root
cleanup() {
  for p in "${pids[@]:-}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -n "${submitter:-}" ] && kill -9 "$submitter" 2>/dev/null || true
  scripts/pg_server.sh stop "$dir/pg" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
url=$(scripts/pg_server.sh start "$dir/pg")
q() { psql "$url" -Atqc "$1"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
build/stepq live init --db "$url" -q
worker() {
  build/stepq live run "$sc" --db "$url" --time-scale 0.002 --lease 2 --heartbeat 0.5 >>"$dir/workers.log" 2>&1 &
  pids+=("$!")
}
pids=()
for _ in $(seq "$workers"); do worker; done
build/stepq live submit "$sc" --db "$url" --sessions $((rate * duration)) --rate "$rate" -q >>"$dir/submit.log" 2>&1 &
submitter=$!
echo "soak: ${duration} s, ${workers} workers, a kill every ${kill_every} s, a server restart every ${restart_every} s"
start=$(date +%s)
kills=0 restarts=0 rss_first=0 next_kill=$kill_every next_restart=$restart_every
while :; do
  sleep 1
  t=$(($(date +%s) - start))
  [ "$t" -ge "$duration" ] && break
  [ "$rss_first" -eq 0 ] && [ "$t" -ge 60 ] && rss_first=$(rss "${pids[0]}")
  if [ "$t" -ge "$next_kill" ]; then
    victim=$((1 + RANDOM % (${#pids[@]} - 1)))
    kill -9 "${pids[$victim]}" 2>/dev/null || true
    wait "${pids[$victim]}" 2>/dev/null || true  # reaped here, so the shell does not report it
    unset "pids[$victim]"
    pids=("${pids[@]}")
    worker
    kills=$((kills + 1))
    next_kill=$((next_kill + kill_every))
  fi
  if [ "$t" -ge "$next_restart" ]; then
    scripts/pg_server.sh restart "$dir/pg" >/dev/null
    restarts=$((restarts + 1))
    next_restart=$((next_restart + restart_every))
  fi
done
rss_last=$(rss "${pids[0]}")
wait "$submitter" || { echo "soak: the submission failed:"; tail -5 "$dir/submit.log"; exit 1; }
# Drain what is left, then stop the workers gracefully.
build/stepq live run "$sc" --db "$url" --time-scale 0.002 --lease 2 --heartbeat 0.5 --until-idle -q >>"$dir/workers.log" 2>&1
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()

sessions=$(q "SELECT count(*) FROM session")
unended=$(q "SELECT count(*) FROM session WHERE phase NOT IN ('COMPLETED', 'FAILED')")
open=$(q "SELECT count(*) FROM execution WHERE ended_at IS NULL")
twice=$(q "SELECT count(*) FROM (SELECT step FROM execution WHERE outcome = 'completed' GROUP BY step HAVING count(*) > 1) t")
overlap=$(q "SELECT count(*) FROM (SELECT ended_at, lead(started_at) OVER w AS next FROM execution
  WINDOW w AS (PARTITION BY step ORDER BY started_at, fence)) n WHERE next IS NOT NULL AND ended_at > next")
failed=$(q "SELECT count(*) FROM session WHERE phase = 'FAILED'")
reaped=$(q "SELECT count(*) FROM execution WHERE outcome = 'reaped'")
growth=$(python3 -c "print(round(100 * ($rss_last - $rss_first) / max($rss_first, 1), 1))")
echo "sessions $sessions (failed $failed), executions reaped $reaped; kills $kills, server restarts $restarts"
echo "not ended $unended, executions open $open, steps completed twice $twice, executions overlapping $overlap"
q "SELECT count(*), left(coalesce(reason, ''), 90) FROM session WHERE phase = 'FAILED' GROUP BY 2" |
  sed 's/^/failed: /'
echo "first worker's resident memory: ${rss_first} kB after a minute, ${rss_last} kB at the end (${growth}%)"
ok=1
[ "$unended" -eq 0 ] && [ "$open" -eq 0 ] && [ "$twice" -eq 0 ] && [ "$overlap" -eq 0 ] || ok=0
python3 -c "import sys; sys.exit(0 if $growth < 10 else 1)" || ok=0
[ "$ok" -eq 1 ] && echo "soak: passed" || { echo "soak: FAILED"; exit 1; }
