#!/usr/bin/env bash
# Line and branch coverage of handlers/ from the unit-test build.
#   ci/coverage.sh BUILD report   HTML into reports/coverage/, print figures
#   ci/coverage.sh BUILD gate     same, and fail below ci/coverage-gate.conf
set -euo pipefail
build=${1:?usage: ci/coverage.sh BUILD_DIR report|gate}
mode=${2:-report}
cd "$(dirname "$0")/.."
# shellcheck source=ci/coverage-gate.conf
. ci/coverage-gate.conf
objdir="$build/handlers/CMakeFiles/hv_test.dir"
if ! find "$objdir" -name '*.gcda' -print -quit | grep -q .; then
  if [ "$mode" = report ]; then bash ci/unit.sh "$build" >/dev/null || true; fi
  if ! find "$objdir" -name '*.gcda' -print -quit | grep -q .; then
    echo "coverage: no counters under $objdir: run the unit tests first" >&2
    exit 1
  fi
fi
out=reports/coverage
mkdir -p "$out"
info="$build/coverage.info"
rc=(--rc lcov_branch_coverage=1)
lcov -q "${rc[@]}" --capture --directory "$objdir" --output-file "$info.raw" 2>/dev/null
lcov -q "${rc[@]}" --extract "$info.raw" "$PWD/handlers/src/*" --output-file "$info" 2>/dev/null
genhtml -q "${rc[@]}" --branch-coverage --output-directory "$out" "$info" >/dev/null 2>&1
summary=$(lcov "${rc[@]}" --summary "$info" 2>&1)
lines=$(echo "$summary" | awk '/lines\.*:/ {gsub("%","",$2); print $2}')
branches=$(echo "$summary" | awk '/branches\.*:/ {gsub("%","",$2); print $2}')
echo "coverage of handlers/: lines ${lines}% branches ${branches}% (report: $out/index.html)"
if [ "$mode" = gate ]; then
  ok=1
  awk -v a="$lines" -v b="$COVERAGE_MIN_LINES" 'BEGIN {exit !(a+0 >= b+0)}' || { echo "coverage gate: lines ${lines}% < ${COVERAGE_MIN_LINES}%" >&2; ok=0; }
  awk -v a="$branches" -v b="$COVERAGE_MIN_BRANCHES" 'BEGIN {exit !(a+0 >= b+0)}' || { echo "coverage gate: branches ${branches}% < ${COVERAGE_MIN_BRANCHES}%" >&2; ok=0; }
  [ "$ok" -eq 1 ] && echo "coverage gate: ok (minimum lines ${COVERAGE_MIN_LINES}%, branches ${COVERAGE_MIN_BRANCHES}%)"
  [ "$ok" -eq 1 ]
fi
