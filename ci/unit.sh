#!/usr/bin/env bash
# Runs every CMocka unit-test binary of a build, showing each suite's own
# summary, and fails if any suite fails. Usage: ci/unit.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: ci/unit.sh BUILD_DIR}
shopt -s nullglob
bins=("$build"/harness/unit/test_*)
if [ ${#bins[@]} -eq 0 ]; then
  echo "ci/unit.sh: no unit-test binaries under $build/harness/unit" >&2
  exit 1
fi
passed=0 failed=0
for t in "${bins[@]}"; do
  [ -x "$t" ] || continue
  echo "== $(basename "$t")"
  if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $(basename "$t")"; fi
done
echo "unit suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
