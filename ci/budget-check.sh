#!/usr/bin/env bash
# Instruction budget gate: instructions per exit of every handler case of
# hx-bench-handlers (harness/bench/bench_cases.c), counted with callgrind
# (deterministic, unlike time on a shared machine), against ci/budgets.conf.
# Fails when a case needs more than its budget + 10%, when a case has no
# budget, or when a budget names no case. Takes about 10 s.
#
#   ci/budget-check.sh BUILD_DIR [BUDGETS_FILE]
#
# Counting: harness/bench/count-instructions.sh (one callgrind process per
# case, --toggle-collect=hv_handle_exit, Ir / iterations).
set -uo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: ci/budget-check.sh BUILD_DIR [BUDGETS_FILE]" >&2
  exit 2
fi
build=$1
cd "$(dirname "$0")/.."
budgets=${2:-ci/budgets.conf}
slack_pct=10

if [ ! -r "$budgets" ]; then
  echo "budgets: cannot read budget file $budgets" >&2
  exit 2
fi

# Budget file: "CASE INSTRUCTIONS" per line; '#' starts a comment.
declare -A budget
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  line=${line%%#*}
  read -r name value extra <<<"$line"
  [ -z "${name:-}" ] && continue
  if [ -n "${extra:-}" ] || ! [[ "${value:-}" =~ ^[1-9][0-9]*$ ]]; then
    echo "budgets: $budgets:$lineno: expected 'CASE INSTRUCTIONS' (a positive integer), got: $line" >&2
    exit 2
  fi
  if [ -n "${budget[$name]:-}" ]; then
    echo "budgets: $budgets:$lineno: case $name listed twice" >&2
    exit 2
  fi
  budget[$name]=$value
done <"$budgets"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash harness/bench/count-instructions.sh "$build" "$tmp/counts"
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "budgets: could not count instructions" >&2
  exit "$rc"
fi

passed=0 failed=0
declare -A seen
printf '%-20s %12s %10s %12s %6s  %s\n' "case" "instr/exit" "budget" "limit(+${slack_pct}%)" "used" "result"
while read -r c per; do
  seen[$c]=1
  b=${budget[$c]:-}
  if [ "$per" = FAILED ]; then
    printf '%-20s %12s %10s %12s %6s  %s\n' "$c" "-" "${b:--}" "-" "-" "FAIL (run failed)"
    sed 's/^/    /' "$tmp/counts.$c.log" 2>/dev/null | tail -5
    failed=$((failed + 1))
  elif [ -z "$b" ]; then
    printf '%-20s %12d %10s %12s %6s  %s\n' "$c" "$per" "-" "-" "-" "FAIL (no budget in $budgets)"
    failed=$((failed + 1))
  else
    limit=$((b + b * slack_pct / 100))
    used=$(awk -v p="$per" -v b="$b" 'BEGIN {printf "%.0f%%", 100 * p / b}')
    if [ "$per" -gt "$limit" ]; then
      result="FAIL (over budget by more than ${slack_pct}%)"
      failed=$((failed + 1))
    else
      result=ok
      passed=$((passed + 1))
    fi
    printf '%-20s %12d %10d %12d %6s  %s\n' "$c" "$per" "$b" "$limit" "$used" "$result"
  fi
done <"$tmp/counts"
for name in "${!budget[@]}"; do
  if [ -z "${seen[$name]:-}" ]; then
    printf '%-20s %12s %10d %12s %6s  %s\n' "$name" "-" "${budget[$name]}" "-" "-" "FAIL (budget for an unknown case)"
    failed=$((failed + 1))
  fi
done
echo "budgets: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
