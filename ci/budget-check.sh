#!/usr/bin/env bash
# Instruction budget gate: instructions per exit of every handler case of
# hx-bench-handlers, counted with callgrind (deterministic, unlike time on a
# shared machine), against ci/budgets.conf. Fails when any case exceeds its
# budget by more than 10%, when a case has no budget, or when a budget names
# no case.
#
#   ci/budget-check.sh BUILD_DIR [BUDGETS_FILE]
#
# Counting: one process per case runs N exits; valgrind's
# --toggle-collect=hv_handle_exit counts only inside hv_handle_exit (and
# what it calls, platform ops included), so re-arming the case between
# exits is not counted. Instructions per exit = Ir / N.
set -uo pipefail
build=${1:?usage: ci/budget-check.sh BUILD_DIR [BUDGETS_FILE]}
cd "$(dirname "$0")/.."
budgets=${2:-ci/budgets.conf}
bench="$build/bench/hx-bench-handlers"
iters=${HX_BUDGET_ITERS:-1000}
slack_pct=10

if [ ! -x "$bench" ]; then
  echo "budgets: $bench missing: build it first (cmake --build $build --target hx-bench-handlers)" >&2
  exit 2
fi
if [ ! -r "$budgets" ]; then
  echo "budgets: cannot read budget file $budgets" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null; then
  echo "budgets: valgrind not installed (ci/deps.sh installs it): cannot count instructions" >&2
  exit 1
fi

# Budget file: "case instructions" per line; '#' starts a comment.
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

mapfile -t cases < <("$bench" list)
if [ ${#cases[@]} -eq 0 ]; then
  echo "budgets: $bench list printed no cases" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count_case() {
  local c=$1
  if valgrind --tool=callgrind --toggle-collect=hv_handle_exit \
      --callgrind-out-file="$tmp/$c.cg" "$bench" run "$c" "$iters" >"$tmp/$c.log" 2>&1; then
    awk '/^summary:/ {print $2; exit} /^totals:/ {print $2; exit}' "$tmp/$c.cg" >"$tmp/$c.ir"
  else
    echo "FAILED" >"$tmp/$c.ir"
  fi
}

# Two cases at a time: about a second each under valgrind.
jobs=$(nproc 2>/dev/null || echo 2)
running=0
for c in "${cases[@]}"; do
  count_case "$c" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

passed=0 failed=0
printf '%-20s %12s %12s %12s %7s  %s\n' "case" "instr/exit" "budget" "limit(+${slack_pct}%)" "used" "result"
for c in "${cases[@]}"; do
  ir=$(cat "$tmp/$c.ir" 2>/dev/null || echo FAILED)
  b=${budget[$c]:-}
  if [ "$ir" = "FAILED" ] || [ -z "$ir" ]; then
    printf '%-20s %12s %12s %12s %7s  %s\n' "$c" "-" "${b:--}" "-" "-" "FAIL (run failed)"
    sed 's/^/    /' "$tmp/$c.log" | tail -5
    failed=$((failed + 1))
    continue
  fi
  per=$(( (ir + iters / 2) / iters ))
  if [ -z "$b" ]; then
    printf '%-20s %12d %12s %12s %7s  %s\n' "$c" "$per" "-" "-" "-" "FAIL (no budget in $budgets)"
    failed=$((failed + 1))
    continue
  fi
  limit=$(( b + b * slack_pct / 100 ))
  used=$(awk -v p="$per" -v b="$b" 'BEGIN {printf "%.0f%%", 100 * p / b}')
  if [ "$per" -gt "$limit" ]; then
    printf '%-20s %12d %12d %12d %7s  %s\n' "$c" "$per" "$b" "$limit" "$used" "FAIL (over budget by more than ${slack_pct}%)"
    failed=$((failed + 1))
  else
    printf '%-20s %12d %12d %12d %7s  %s\n' "$c" "$per" "$b" "$limit" "$used" "ok"
    passed=$((passed + 1))
  fi
done
for name in "${!budget[@]}"; do
  known=0
  for c in "${cases[@]}"; do [ "$c" = "$name" ] && known=1; done
  if [ "$known" -eq 0 ]; then
    printf '%-20s %12s %12d %12s %7s  %s\n' "$name" "-" "${budget[$name]}" "-" "-" "FAIL (budget for an unknown case)"
    failed=$((failed + 1))
  fi
done
echo "budgets: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
