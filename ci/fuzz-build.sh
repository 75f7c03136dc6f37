#!/usr/bin/env bash
# Configure and build the fuzz targets for one engine in their own build
# directory. Usage: ci/fuzz-build.sh libfuzzer|afl|coverage BUILD_DIR
#   coverage   the replay drivers built with clang source-based coverage
#              (-fprofile-instr-generate -fcoverage-mapping), for
#              `make fuzz-coverage` (ci/fuzz-coverage.sh)
# BUILD_JOBS=N parallel compile jobs (default: every core).
set -euo pipefail
engine=${1:?engine}
build=${2:?build dir}
cd "$(dirname "$0")/.."
jobs=${BUILD_JOBS:-$(nproc)}
fuzz_engine=$engine
case "$engine" in
  libfuzzer) cc=clang; flags="-fsanitize=fuzzer-no-link" ;;
  afl) cc=afl-clang-fast; flags="" ;;
  coverage) cc=clang; flags="-fprofile-instr-generate -fcoverage-mapping"; fuzz_engine=replay ;;
  *) echo "fuzz-build: unknown engine '$engine' (libfuzzer, afl or coverage)" >&2; exit 2 ;;
esac
if [ ! -f "$build/CMakeCache.txt" ]; then
  AFL_QUIET=1 cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHX_FUZZ_ENGINE="$fuzz_engine" -DHX_COVERAGE=OFF -DHX_GUESTS=OFF
fi
AFL_QUIET=1 cmake --build "$build" -j "$jobs" --target fuzz_all
