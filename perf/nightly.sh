#!/bin/sh
# perf/nightly.sh — the nightly GPU run.
#
#   1. build with CUDA (Release) into $BUILD
#   2. ctest -L gpu (backend tests against the CPU; they skip without a GPU)
#   3. the bench suite on the CUDA backend, results appended to perf/results/:
#        sd15  512x512   50 steps, batch 1, 4, 8
#        sd21  768x768   50 steps, batch 1, 4, 8
#        sdxl 1024x1024  50 steps, batch 1, 4, 8   (skipped while t2i-bench
#                                                   reports it unsupported, exit 77)
#      each with CFG 7.5 and the Euler sampler; optionally (DIFFUSERS=1) the
#      side-by-side run against diffusers and diffusers + torch.compile
#      (perf/bench_diffusers.py) for sd15 512x512
#   4. every figure compared with the previous result of the same (device,
#      preset, configuration) in perf/results (perf/compare_results.py);
#      figures more than $THRESHOLD % worse are listed.
#
# Exit status: 0 all good; 1 build failure, failing gpu tests, a failing
# bench, or a regression (each listed in the summary at the end).
#
# Environment: BUILD (default build-nightly), DEVICE (CUDA ordinal, 0),
# THRESHOLD (percent, 5), REPEAT (end-to-end runs per figure, 3),
# DIFFUSERS (1: also run perf/bench_diffusers.py), PYTHON (python3),
# PRESETS (default "sd15 sd21 sdxl"), STEPS (50), BATCHES (1,4,8),
# RESULTS (default perf/results).
# A CPU dry run of the plumbing (no GPU):
#   BACKEND=cpu PRESETS=tiny STEPS=2 BATCHES=1 RESULTS=/tmp/r perf/nightly.sh
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-nightly}
DEVICE=${DEVICE:-0}
THRESHOLD=${THRESHOLD:-5}
REPEAT=${REPEAT:-3}
PYTHON=${PYTHON:-python3}
PRESETS=${PRESETS:-"sd15 sd21 sdxl"}
STEPS=${STEPS:-50}
BATCHES=${BATCHES:-1,4,8}
BACKEND=${BACKEND:-cuda}
OUT=${RESULTS:-$ROOT/perf/results}
TAG=nightly-$(date -u +%Y%m%dT%H%M%SZ)
COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
failures=""

note() { printf '\n=== %s\n' "$*"; }
fail() { failures="$failures
  - $*"; }

if [ "$BACKEND" = cuda ]; then cuda_opt=ON; else cuda_opt=OFF; fi
note "build ($BUILD, T2I_CUDA=$cuda_opt)"
if ! cmake -S "$ROOT" -B "$BUILD" -DT2I_CUDA=$cuda_opt -DCMAKE_BUILD_TYPE=Release >"$BUILD.cmake.log" 2>&1 ||
   ! cmake --build "$BUILD" -j "$(nproc)" >"$BUILD.build.log" 2>&1; then
    tail -40 "$BUILD.cmake.log" "$BUILD.build.log" 2>/dev/null
    echo "nightly: build failed"
    exit 1
fi

if [ "$BACKEND" = cuda ]; then
    note "ctest -L gpu"
    (cd "$BUILD" && ctest -L gpu --output-on-failure) || fail "ctest -L gpu"
fi

bench() { # preset size
    note "t2i-bench $1 $2x$2"
    "$BUILD/t2i-bench" --backend "$BACKEND" --device "$DEVICE" --preset "$1" --size "$2" --steps "$STEPS" \
        --batch "$BATCHES" --cfg 7.5 --sampler euler --warmup 1 --repeat "$REPEAT" \
        --out-dir "$OUT" --tag "$TAG" --commit "$COMMIT"
    rc=$?
    if [ $rc -eq 77 ]; then
        echo "nightly: $1 skipped (unsupported by this build)"
    elif [ $rc -ne 0 ]; then
        fail "t2i-bench $1 $2 (exit $rc)"
    fi
}
for p in $PRESETS; do
    case $p in
        sd15) bench sd15 512 ;;
        sd21) bench sd21 768 ;;
        sdxl) bench sdxl 1024 ;;
        tiny|tiny2|tinyxl) bench "$p" 64 ;;
        *) bench "$p" 512 ;;
    esac
done

if [ "${DIFFUSERS:-0}" = 1 ]; then
    note "side by side with diffusers (sd15 512x512)"
    "$PYTHON" "$ROOT/perf/bench_diffusers.py" --bench "$BUILD/t2i-bench" --preset sd15 --size 512 \
        --steps "$STEPS" --batch "$BATCHES" --out-dir "$OUT" || fail "bench_diffusers.py"
fi

note "regressions against previous results (> $THRESHOLD %)"
"$PYTHON" "$ROOT/perf/compare_results.py" --tag "$TAG" --results "$OUT" --threshold "$THRESHOLD" ||
    fail "figures more than $THRESHOLD % worse (listed above)"

note "summary ($TAG, commit $COMMIT)"
if [ -n "$failures" ]; then
    echo "FAILED:$failures"
    exit 1
fi
echo "all good; results in $OUT"
