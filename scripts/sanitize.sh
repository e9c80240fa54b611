#!/usr/bin/env bash
# Builds stepq and its tests with a sanitizer into build-KIND/ and runs the tests that exercise
# it (issue 19 item 2). Any report fails the run.
#   scripts/sanitize.sh address   # AddressSanitizer + UndefinedBehaviorSanitizer: unit, conformance,
#                                 # bad input, scenarios and the live engine (SQLite and PostgreSQL)
#   scripts/sanitize.sh thread    # ThreadSanitizer: the live engine's tests (its threads)
# Extra arguments go to ctest (e.g. -R crash). After scripts/setup.sh (packages, npm).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitize.sh address|thread [ctest arguments]}
shift
case "$kind" in
  address) labels="unit|bad_input|scenarios|live-slow|postgres" ;;
  thread) labels="live-slow" ;;
  *) echo "scripts/sanitize.sh: the sanitizer must be address or thread (got $kind)" >&2; exit 2 ;;
esac
cmake -S . -B "build-$kind" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEPQ_SANITIZE="$kind" >/dev/null
cmake --build "build-$kind" -j"$(nproc)" >&2
# halt_on_error: a finding ends the process with an error, which fails its test.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
cd "build-$kind"
# Browser, Podman and the twin tests are left out: no sanitizer finding is theirs to make (the
# twin compares timings, which a sanitizer's slowdown upsets).
ctest --output-on-failure -j"$(nproc)" -L "$labels" -LE "browser|podman" -E "twin" "$@"
