#!/usr/bin/env bash
# A real Podman service and a real OCI registry on this machine, for the podman adapter's demo
# and tests (issue 15). Needs Debian's podman, runc, docker-registry and busybox-static
# (scripts/setup.sh installs them) and root: Podman runs rootful here, state under DIR only.
#
#   scripts/podman.sh start [DIR]   start both if they are not running (default DIR
#                                   /tmp/stepq-podman); prints DIR/env: SOCKET, REGISTRY, IMAGE
#   scripts/podman.sh demo [DIR]    submit and run scenarios/podman-demo.json's sessions there
#   scripts/podman.sh stop [DIR]    remove every container, stop both, delete DIR
#
# Why these settings: runc, because crun rejects the hybrid cgroup layout of these machines;
# `default_ulimits = []`, because setting rlimits is refused inside them; `netns = "none"`: the
# demo's containers need no network (their data comes through the bind mount), so no network
# backend has to be installed; events go to a file, so tests can count creates; the registry listens
# on 127.0.0.1 only, and images are pushed and pulled with TLS verification off for it alone.
set -euo pipefail
cmd=${1:?start|demo|stop [DIR]}
dir=$(realpath -m "${2:-/tmp/stepq-podman}")
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=$dir/containers.conf
pm() { podman --root "$dir/storage" --runroot "$dir/run" --runtime runc "$@"; }
alive() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

start() {
  for p in podman runc docker-registry; do
    command -v $p >/dev/null || { echo "podman.sh: $p is not installed (run scripts/setup.sh)" >&2; exit 1; }
  done
  [ -x /bin/busybox ] || { echo "podman.sh: /bin/busybox is missing (install busybox-static)" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "podman.sh: run as root (Podman runs rootful here)" >&2; exit 1; }
  mkdir -p "$dir"
  if ! alive registry; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$dir/registry" "$port" >"$dir/registry.yml"
    docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    echo "127.0.0.1:$port" >"$dir/registry.addr"
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  fi
  registry=$(cat "$dir/registry.addr")
  if ! alive podman; then
    printf '[containers]\ndefault_ulimits = []\nnetns = "none"\n[engine]\nruntime = "runc"\n%s\n%s\n' \
      'cgroup_manager = "cgroupfs"' 'events_logger = "file"' >"$dir/containers.conf"
    rm -f "$dir/podman.sock"
    # Not through pm(): $! must be podman's own pid, not a subshell's.
    podman --root "$dir/storage" --runroot "$dir/run" --runtime runc system service --time=0 "unix://$dir/podman.sock" \
      >"$dir/podman.log" 2>&1 &
    echo $! >"$dir/podman.pid"
    for _ in $(seq 100); do curl -sf --unix-socket "$dir/podman.sock" http://d/_ping >/dev/null && break; sleep 0.1; done
    curl -sf --unix-socket "$dir/podman.sock" http://d/_ping >/dev/null ||
      { cat "$dir/podman.log" >&2; echo "podman.sh: the Podman service did not start" >&2; exit 1; }
  fi
  # The demo image: busybox (static) and nothing else, pushed to the loopback registry.
  if ! curl -sf "http://$registry/v2/stepq/demo/manifests/1" -o /dev/null; then
    rm -rf "$dir/rootfs" && mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp"
    cp /bin/busybox "$dir/rootfs/bin/busybox"
    for a in sh echo cat sleep ls date wc grep sort head; do ln -sf busybox "$dir/rootfs/bin/$a"; done
    tar -C "$dir/rootfs" -cf "$dir/demo.tar" .
    pm import --change 'CMD ["/bin/sh"]' "$dir/demo.tar" localhost/stepq-demo:1 >/dev/null 2>&1
    pm push --tls-verify=false localhost/stepq-demo:1 "$registry/stepq/demo:1" >/dev/null 2>&1
    pm rmi localhost/stepq-demo:1 >/dev/null  # the adapter's image step pulls it for real
  fi
  printf 'SOCKET=%s\nREGISTRY=%s\nIMAGE=%s\n' "$dir/podman.sock" "$registry" "$registry/stepq/demo:1" | tee "$dir/env"
}

stop() {
  if alive podman; then pm rm -af -t 0 >/dev/null 2>&1 || true; fi
  for p in podman registry; do
    if alive $p; then kill "$(cat "$dir/$p.pid")"; sleep 0.5; kill -9 "$(cat "$dir/$p.pid")" 2>/dev/null || true; fi
  done
  # Overlay mounts of containers or images left behind would keep the directory from going.
  { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$dir"
}

demo() {
  [ -f "$dir/env" ] || { echo "podman.sh: nothing runs in $dir; start it first: scripts/podman.sh start" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$dir/env"
  work=$dir/demo && mkdir -p "$work"
  sed -e "s|@SOCKET@|$SOCKET|" -e "s|@IMAGE@|$IMAGE|" "$root/scenarios/platforms/podman-demo.json" >"$work/platforms.json"
  cd "$work"
  set -x
  "$root/build/stepq" live init --db sqlite:stepq.db
  "$root/build/stepq" live submit "$root/scenarios/podman-demo.json" --db sqlite:stepq.db --sessions 20
  "$root/build/stepq" live run "$root/scenarios/podman-demo.json" --db sqlite:stepq.db \
    --platforms platforms.json --until-idle
  "$root/build/stepq" live status --db sqlite:stepq.db
  { set +x; } 2>/dev/null
  echo "session outputs (written inside the containers): $work/stepq-sessions/session-*/brightest.txt"
}

case $cmd in
start) start ;;
demo) demo ;;
stop) stop ;;
*) echo "podman.sh: unknown command $cmd (start, demo or stop)" >&2; exit 2 ;;
esac
