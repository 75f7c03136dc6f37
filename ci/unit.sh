#!/usr/bin/env bash
# Runs every CMocka unit-test binary of a build once per vendor (the mock
# configs are Intel, then AMD with HX_TEST_VENDOR=amd: EPT, then nested page
# tables), showing each suite's own summary, and fails if any run fails.
# Usage: ci/unit.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: ci/unit.sh BUILD_DIR}
shopt -s nullglob
bins=("$build"/harness/unit/test_*)
if [ ${#bins[@]} -eq 0 ]; then
  echo "ci/unit.sh: no unit-test binaries under $build/harness/unit" >&2
  exit 1
fi
passed=0 failed=0
for vendor in intel amd; do
  for t in "${bins[@]}"; do
    [ -x "$t" ] || continue
    echo "== $(basename "$t") ($vendor)"
    if HX_TEST_VENDOR=$vendor "$t"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAILED: $(basename "$t") ($vendor)"
    fi
  done
done
echo "unit suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
