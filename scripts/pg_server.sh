#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and benchmarks (research/toolchain.md §4).
#   scripts/pg_server.sh start DIR [LISTEN]   initdb into DIR, start on a free port; prints the URL
#                                             (also in DIR/url)
#                                             (LISTEN: listen_addresses, default 127.0.0.1)
#   scripts/pg_server.sh stop DIR             stop it and delete DIR
#   scripts/pg_server.sh restart DIR          fast stop and start again (same port)
# As root the server runs as the `postgres` user (PostgreSQL refuses root). Trust authentication:
# never for a server that holds anything.
set -euo pipefail
cmd=${1:?start|stop|restart DIR}
dir=${2:?DIR}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "pg_server: PostgreSQL server binaries not found under /usr/lib/postgresql (install the postgresql package)" >&2; exit 1; }
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $cmd in
start)
  listen=${3:-127.0.0.1}
  [ -d "$dir/data" ] && "$0" stop "$dir"   # left over from an interrupted run
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  as_owner "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # Other hosts (a network namespace in the tests) may connect too.
  echo "host all all 0.0.0.0/0 trust" | as_owner tee -a "$dir/data/pg_hba.conf" >/dev/null
  for try in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=$listen -c max_connections=300 -c fsync=on -c synchronous_commit=on" \
        start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      echo "postgresql://postgres@127.0.0.1:$port/postgres" | tee "$dir/url"
      exit 0
    fi
  done
  cat "$dir/server.log" >&2
  exit 1
  ;;
stop)
  if [ -d "$dir/data" ]; then as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  ;;
restart)
  as_owner "$pgbin/pg_ctl" -D "$dir/data" -m fast -w restart -l "$dir/server.log" >/dev/null
  ;;
*) echo "pg_server: unknown command $cmd" >&2; exit 2 ;;
esac
