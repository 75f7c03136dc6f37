#!/usr/bin/env bash
# `make test`: every gate, in order; fails if any fails.
#   unit        CMocka suites (ASan+UBSan, coverage-instrumented core)
#   freestanding  the bare-metal image links with nothing undefined
#   cli         hx (and its sanitized twin) on every good and bad config
#   kvm         guest programs on /dev/kvm under the production handlers,
#               plus the broken-EPT negative control (skipped only when
#               /dev/kvm does not exist)
#   boot        the bootable hypervisor under QEMU's SVM emulation runs the
#               guest suite, plus the broken-NPT negative control (fails,
#               not skips, in CI when QEMU is missing)
#   call        sandboxed firmware calls (hx call) on /dev/kvm: runtime
#               services answer, hostile functions contained and reported
#   replay      every corpus trace through hx and hx_asan: invariants,
#               recorded outputs, DET; malformed traces refused
#   build-eq    the freestanding core inside a KVM guest gives bit-identical
#               outputs to the hosted core on every corpus trace
#   regressions every kept fuzz input and seed through the replay drivers
#   fuzz-smoke  every fuzz target a few seconds on libFuzzer and on AFL++
#   clusterfuzzlite  .clusterfuzzlite/build.sh run locally with CC, CFLAGS,
#               LIB_FUZZING_ENGINE and OUT set
#   budgets     instructions per exit type (callgrind) within ci/budgets.conf
#   coverage    handlers/ line and branch coverage at or above the gate
set -uo pipefail
build=${1:?usage: ci/test.sh BUILD_DIR}
cd "$(dirname "$0")/.."
passed=0 failed=0 names=()
gate() {
  local name=$1; shift
  echo
  echo "######## $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); names+=("$name"); fi
}
# Coverage counters from earlier runs would inflate the gate.
find "$build" -name '*.gcda' -delete 2>/dev/null || true
gate unit bash ci/unit.sh "$build"
gate freestanding bash ci/freestanding.sh "$build"
gate cli bash ci/cli-tests.sh "$build"
gate kvm bash ci/kvm-tests.sh "$build"
gate boot bash ci/boot-tests.sh "$build"
gate call bash ci/call-tests.sh "$build"
gate replay bash ci/replay-tests.sh "$build"
gate build-eq bash ci/buildeq.sh "$build"
gate regressions bash ci/regressions.sh "$build"
gate fuzz-smoke bash ci/fuzz-smoke.sh "$build"
gate clusterfuzzlite bash ci/cfl-check.sh
gate budgets bash ci/budget-check.sh "$build"
gate coverage bash ci/coverage.sh "$build" gate
echo
if [ "$failed" -ne 0 ]; then echo "failed gates: ${names[*]}"; fi
echo "gates: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
