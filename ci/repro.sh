#!/usr/bin/env bash
# `make repro CRASH=FILE [TARGET=name]`: rebuild what is needed and run one
# input through the plain replay driver of its fuzz target under ASan+UBSan
# with a symbolized report; exit traces, and the hypercalls of a fuzz_hcall
# input recorded as a trace, also go through `hx replay`.
# The target comes from TARGET, else from the file (an .hxt trace is the
# exits target), else from the path (reports/fuzz/<t>/..., corpus/<t>/...,
# corpus/regressions/<t>-...).
# Exit status: 1 the input still fails (reproduced), 0 it passes, 2 bad
# arguments or build failure.
set -uo pipefail
crash=${1:-}
target=${2:-}
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "repro: $*" >&2; exit 2; }
[ -n "$crash" ] || die "usage: make repro CRASH=FILE [TARGET=name]"
[ -f "$crash" ] || die "$crash: no such file"
crash=$(cd "$(dirname "$crash")" && pwd)/$(basename "$crash")
cd "$root"

targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')
# A trace is always an exit sequence (fuzz_hcall crashes come with one).
if [ -z "$target" ] && [ "$(head -c 7 "$crash")" = HXTRACE ]; then target=exits; fi
if [ -z "$target" ]; then
  for t in $targets; do
    case "$crash" in
    */reports/fuzz/$t/* | */corpus/$t/* | */corpus/regressions/$t-*) target=$t ;;
    esac
  done
fi
case "$crash" in */corpus/kvm/*) target=${target:-exits} ;; esac
[ -n "$target" ] || die "cannot tell the target of $crash; say TARGET=one of: $targets"
[ -f "harness/fuzz/fuzz_$target.c" ] || die "unknown target '$target' (have: $targets)"

echo "repro: target $target, input $crash"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || die "configure of $BUILD failed"
fi
want=("fuzz_$target")
case "$target" in exits | hcall) want+=(hx) ;; esac
cmake --build "$BUILD" -j "$(nproc)" --target "${want[@]}" >"$BUILD/repro-build.log" 2>&1 || {
  tail -20 "$BUILD/repro-build.log" >&2; die "build failed, see $BUILD/repro-build.log"; }

sym=$(command -v llvm-symbolizer || true)
export ASAN_OPTIONS=symbolize=1:abort_on_error=1:handle_abort=1:detect_leaks=0${sym:+:external_symbolizer_path=$sym}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fail=0
echo "repro: $BUILD/fuzz/fuzz_$target $crash"
# The report goes to stderr (fd 3); the shell's own "Aborted" notice does not.
("$BUILD/fuzz/fuzz_$target" "$crash" 2>&3; r=$?; exit $r) 3>&2 2>/dev/null
rc=$?
[ "$rc" -eq 0 ] || fail=1
if [ "$target" = exits ]; then
  # Fuzzer-made traces may have an unrewritten header and outputs recorded
  # for other inputs: --unsealed --no-compare judges them by the invariants
  # alone. Sealed traces (regressions, seeds) are also replayed as they are,
  # comparing every recorded output.
  echo "repro: $BUILD/hx replay -v --unsealed --no-compare $crash"
  "$BUILD/hx" replay -v --unsealed --no-compare "$crash"
  r=$?
  [ "$r" -eq 1 ] && fail=1
  [ "$r" -eq 2 ] && [ "$rc" -eq 0 ] && { echo "repro: hx replay refused the input" >&2; exit 2; }
  if "$BUILD/hx" trace dump "$crash" >/dev/null 2>&1; then
    echo "repro: $BUILD/hx replay -v $crash"
    "$BUILD/hx" replay -v "$crash"
    [ $? -eq 1 ] && fail=1
  fi
fi
if [ "$target" = hcall ]; then
  # The same hypercalls as an exit trace, through `hx replay`.
  trace=$(mktemp --suffix=.hxt)
  (HX_FUZZ_TRACE_OUT=$trace "$BUILD/fuzz/fuzz_$target" "$crash" >/dev/null 2>&1; :) 2>/dev/null
  if [ -s "$trace" ]; then
    echo "repro: the input's hypercalls as a trace: $BUILD/hx replay -v $trace"
    "$BUILD/hx" replay -v "$trace"
    [ $? -eq 1 ] && fail=1
  fi
  rm -f "$trace"
fi
if [ "$fail" -eq 1 ]; then
  echo "repro: reproduced: $crash still fails"
  exit 1
fi
echo "repro: $crash passes (no failure reproduced)"
exit 0
