#!/usr/bin/env bash
# Installs what stepq needs from Debian 12 packages (only what is missing, so a second run is
# quick), then configures and builds into build/. Safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config libsimgrid-dev libeigen3-dev libcli11-dev nlohmann-json3-dev catch2
          libsqlite3-dev libpq-dev postgresql sqlite3 time libcurl4-openssl-dev libssl-dev python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >&2
