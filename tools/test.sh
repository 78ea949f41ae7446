#!/usr/bin/env bash
# Set up, build everything (CUDA code too when nvcc is present) and run the
# test suite. GPU tests report "skipped" on machines without a GPU.
# Then the suite again built by clang with ASan + UBSan (build-asan/), and
# each fuzz harness for T2I_FUZZ_SECONDS (default 20) seconds (tools/fuzz.sh).
# Any sanitizer or fuzzer finding fails. T2I_FUZZ_SECONDS=0 skips the fuzz
# step, T2I_TEST_SANITIZE=0 the sanitizer build (quicker local runs; CI runs both).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2

if [ "${T2I_TEST_SANITIZE:-1}" != 0 ]; then
  CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DT2I_CUDA=OFF \
    -DT2I_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$(nproc)"
  # Not test_cuda_emu (label emu): its kernel threads are fibers on heap
  # stacks that the emulation unpoisons by hand; it passes under ASan but
  # takes minutes there, and the normal build runs it.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2 -LE emu
fi
if [ "${T2I_FUZZ_SECONDS:-20}" != 0 ]; then
  tools/fuzz.sh "${T2I_FUZZ_SECONDS:-20}"
fi
