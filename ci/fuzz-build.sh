#!/usr/bin/env bash
# Configure and build the fuzz targets for one engine in their own build
# directory. Usage: ci/fuzz-build.sh libfuzzer|afl BUILD_DIR
set -euo pipefail
engine=${1:?engine}
build=${2:?build dir}
cd "$(dirname "$0")/.."
case "$engine" in
  libfuzzer) cc=clang; flags="-fsanitize=fuzzer-no-link" ;;
  afl) cc=afl-clang-fast; flags="" ;;
  *) echo "fuzz-build: unknown engine $engine" >&2; exit 2 ;;
esac
if [ ! -f "$build/CMakeCache.txt" ]; then
  AFL_QUIET=1 cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHX_FUZZ_ENGINE="$engine" -DHX_COVERAGE=OFF -DHX_GUESTS=OFF
fi
AFL_QUIET=1 cmake --build "$build" -j "$(nproc)" --target fuzz_all
