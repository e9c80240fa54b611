#!/usr/bin/env bash
# Runs each libFuzzer target of tests/fuzz/ for EXECUTIONS inputs (issue 19, item 1: 10^6 or more)
# and prints, per target, the executions, the wall time and the result. Any crash, leak, undefined
# behaviour (UBSan aborts on it), exception other than ScenarioError, hang (-timeout) or runaway
# memory fails the target; its input is kept under $FUZZ_OUT for a regression file in tests/bad/.
#
# Usage: bench/fuzz.sh [EXECUTIONS] [TARGET...]      (after scripts/setup.sh, which builds build/fuzz)
#   EXECUTIONS  inputs per target (default 1000000); TARGETs: scenario trace overrides platforms
#   FUZZ_BUILD  where the targets are (default build/fuzz); FUZZ_OUT: logs and inputs that failed
#   (default $FUZZ_BUILD/out); FUZZ_SEED: libFuzzer's -seed (default 0: a new one each run).
# The test suite runs `bench/fuzz.sh 10000 TARGET` per target (tests/CMakeLists.txt, label fuzz).
# Exit status: 0 all passed, 1 a target failed, 77 a target is not built (CTest: skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario trace overrides platforms)
build=${FUZZ_BUILD:-build/fuzz}
out=${FUZZ_OUT:-$build/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Seeds (copied: libFuzzer adds what it finds to its corpus directory, never into the repository),
# the longest input worth trying, and the sources whose quoted names make the dictionary.
seeds() {
  case $1 in
    scenario) echo scenarios/*.json tests/bad/*.json ;;
    trace) echo tests/bad/*.csv tests/fuzz/seeds/trace/* ;;
    overrides) echo tests/fuzz/seeds/overrides/* ;;
    platforms) echo scenarios/platforms/*.json tests/fuzz/seeds/platforms/* ;;
  esac
}
max_len() {  # the largest shipped scenario is about 10 kB
  case $1 in scenario) echo 12288 ;; platforms) echo 4096 ;; *) echo 1024 ;; esac
}
dict_sources() {
  case $1 in
    scenario | overrides) echo core/scenario_load.cpp ;;
    platforms) echo backends/live/platforms.cpp backends/live/adapter.cpp backends/*/*_adapter.cpp ;;
  esac
}

# libFuzzer's dictionary: every key and keyword the parser compares with, bare and quoted.
make_dict() {
  grep -ohE '"[A-Za-z_][A-Za-z0-9_.]{0,30}"' "$@" | sort -u | while read -r w; do
    printf '%s\n"\\"%s\\""\n' "$w" "${w:1:-1}"
  done
}

printf '%-10s %12s %9s  %s\n' target executions seconds result
status=0
missing=0
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  if [ ! -x "$bin" ]; then
    printf '%-10s %12s %9s  %s\n' "$t" - - "not built: run scripts/setup.sh (needs clang)"
    missing=1
    continue
  fi
  mkdir -p "$scratch/$t/corpus" "$out/$t"
  # shellcheck disable=SC2046  # the globs are meant to split
  cp $(seeds "$t") "$scratch/$t/corpus/"
  args=(-runs="$runs" -max_len="$(max_len "$t")" -detect_leaks=1 -timeout=10 -rss_limit_mb=2048
        -seed="${FUZZ_SEED:-0}" -print_final_stats=1 -artifact_prefix="$out/$t/")
  srcs=$(dict_sources "$t")
  if [ -n "$srcs" ]; then
    # shellcheck disable=SC2086
    make_dict $srcs >"$scratch/$t.dict"
    args+=(-dict="$scratch/$t.dict")
  fi
  log=$out/$t.log
  start=$(date +%s.%N)
  rc=0
  # stdin from /dev/null: a fuzzed file name such as /dev/stdin must not wait for a terminal.
  "$bin" "${args[@]}" "$scratch/$t/corpus" </dev/null >"$log" 2>&1 || rc=$?
  secs=$(awk "BEGIN {print $(date +%s.%N) - $start}")
  done_runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    result="ok: no crash, leak or undefined behaviour"
  else
    status=1
    what=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [^ ]+( [^ ]+)?|runtime error: .{0,40}|terminate called.*' "$log" || true)
    result="FAILED: $(echo "${what:-exit status $rc}" | cut -c1-64)"
  fi
  printf '%-10s %12s %9.1f  %s\n' "$t" "${done_runs:-?}" "$secs" "$result"
  [ $rc -eq 0 ] || echo "           log and failing input: $log, $out/$t/"
done
[ $status -ne 0 ] || [ $missing -eq 0 ] || exit 77
exit $status
