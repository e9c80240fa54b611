#!/usr/bin/env bash
# Installs what stepq needs from Debian 12 packages (only what is missing, so a second run is
# quick), then configures and builds into build/. Safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config libsimgrid-dev libeigen3-dev libboost-dev libcli11-dev nlohmann-json3-dev catch2
          libsqlite3-dev libpq-dev postgresql sqlite3 time libcurl4-openssl-dev libssl-dev python3
          chromium        # chromium: the HTML report test opens reports in headless Chromium
          docker-registry  # a real OCI registry on 127.0.0.1 for the registry adapter's tests
          libxml2-dev      # the cavern adapter reads VOSpace's XML node documents with libxml2
          podman runc busybox-static  # real containers for the podman adapter (scripts/podman.sh)
          # clang and its libFuzzer runtime (only recommended by clang, and recommends are not
          # installed) build the fuzz targets of tests/fuzz/ with sanitizers (bench/fuzz.sh)
          clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm installs the chart libraries of the HTML reports; any Node.js that brings npm will do.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# vega, vega-lite and vega-embed at the versions pinned in reports/web/package-lock.json; the build
# compiles their minified files into stepq, so reports need neither node_modules nor a network.
if [ ! -d reports/web/node_modules ]; then
  echo "setup: npm ci in reports/web (chart libraries for HTML reports)" >&2
  (cd reports/web && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >&2

# The fuzz targets: a clang project of its own (libFuzzer needs clang; the build above is g++),
# inside build/ so that the test suite finds them (its fuzz.* tests) and one rm -rf cleans both.
cmake -S tests/fuzz -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build/fuzz -j"$(nproc)" >&2
