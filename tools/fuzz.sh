#!/usr/bin/env bash
# Build the libFuzzer harnesses of tests/fuzz with clang (ASan + UBSan) and
# run each for a bounded time; fail on any finding (crash, leak, undefined
# behaviour, timeout, out of memory).
#
#   tools/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]     (default 20 s, all)
#
# Each harness starts from its seed corpus (tests/fuzz/corpus/<name>/) and
# its regression inputs (tests/fuzz/regressions/<name>/, not pending/),
# copied into build-fuzz/work/<name>/corpus, where new inputs go (the
# committed folders are never written). A finding is saved as
# build-fuzz/findings/<name>/crash-… (or leak-, timeout-, oom-); replay it
# with build-fuzz/fuzz_<name> FILE, then keep it as
# tests/fuzz/regressions/<name>/<what>. Longer runs: docs/fuzzing.md.
# Environment: T2I_FUZZ_BUILD (build folder, default build-fuzz),
# T2I_FUZZ_JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
shift || true
build=${T2I_FUZZ_BUILD:-build-fuzz}
all=()   # every harness file: tests/fuzz/fuzz_<name>.c (fuzz_util.c is the shared helper)
for f in tests/fuzz/fuzz_*.c; do
  n=${f#tests/fuzz/fuzz_}; n=${n%.c}
  [ "$n" = util ] || all+=("$n")
done
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DT2I_CUDA=OFF -DT2I_FUZZ=ON >/dev/null
cmake --build "$build" -j"${T2I_FUZZ_JOBS:-$(nproc)}" --target fuzzers >/dev/null

# Harnesses of path-taking readers write each input to a file: keep those
# in memory where /dev/shm exists (20x the executions of a disk-backed /tmp).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
failed=()
printf '%-16s %12s %10s %s\n' harness executions exec/s result
for h in "${harnesses[@]}"; do
  work=$build/work/$h findings=$build/findings/$h
  rm -rf "$work"
  mkdir -p "$work/corpus" "$findings"
  cp tests/fuzz/corpus/"$h"/* "$work/corpus/"
  # Regression inputs: the top level only (pending/ holds known, unfixed bugs).
  find tests/fuzz/regressions/"$h" -maxdepth 1 -type f -exec cp {} "$work/corpus/" \; 2>/dev/null || true
  rc=0
  "$build/fuzz_$h" "$work/corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" >"$work/log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  if ((rc)); then
    failed+=("$h")
    printf '%-16s %12s %10s FAIL (rc %d): %s\n' "$h" "${execs:-?}" "${speed:-?}" "$rc" \
      "$(ls "$findings" | head -3 | tr '\n' ' ')"
    grep -m1 -E "ERROR: |runtime error|SUMMARY" "$work/log" || true
    echo "  log: $work/log"
  else
    printf '%-16s %12s %10s ok\n' "$h" "${execs:-?}" "${speed:-?}"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]} (reproducers under $build/findings/)" >&2
  exit 1
fi
echo "fuzz: no findings"
