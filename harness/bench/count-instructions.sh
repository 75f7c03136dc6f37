#!/usr/bin/env bash
# Instructions per exit of every handler case, counted with callgrind:
# one process per case runs ITERS exits of it; --toggle-collect counts only
# inside hv_handle_exit (platform ops it calls included, re-arming the case
# between exits not), so instructions per exit = Ir / ITERS, and the count
# is the same on every run of the same binary.
#
#   harness/bench/count-instructions.sh BUILD_DIR OUT_FILE [ITERS] [PROGRAM]
#
# PROGRAM is hx-bench-handlers (default: the hosted optimised core) or
# hx-bench-handlers-free (the core compiled with the freestanding flags).
# OUT_FILE gets one line per case: "NAME INSTRUCTIONS" or "NAME FAILED";
# the valgrind/bench output of a failed case is kept in OUT_FILE.NAME.log.
# Used by ci/budget-check.sh and ci/bench.sh.
set -uo pipefail
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  echo "usage: count-instructions.sh BUILD_DIR OUT_FILE [ITERS] [PROGRAM]" >&2
  exit 2
fi
build=$1
out=$2
iters=${3:-1000}
program=${4:-hx-bench-handlers}
case "$program" in
  hx-bench-handlers|hx-bench-handlers-free) ;;
  *) echo "count-instructions: PROGRAM must be hx-bench-handlers or hx-bench-handlers-free" >&2; exit 2 ;;
esac
bench="$build/bench/$program"
if [ ! -x "$bench" ]; then
  echo "count-instructions: $bench missing (cmake --build $build --target $program)" >&2
  exit 2
fi
if ! [[ "$iters" =~ ^[1-9][0-9]*$ ]]; then
  echo "count-instructions: ITERS must be a positive integer, not '$iters'" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null; then
  echo "count-instructions: valgrind not installed (ci/deps.sh installs it)" >&2
  exit 2
fi
mapfile -t cases < <("$bench" list)
if [ ${#cases[@]} -eq 0 ]; then
  echo "count-instructions: $bench list printed no cases" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count_case() {
  local c=$1
  if valgrind --tool=callgrind --toggle-collect=hv_handle_exit \
      --callgrind-out-file="$tmp/$c.cg" "$bench" run "$c" "$iters" >"$tmp/$c.log" 2>&1; then
    # "summary: N" (or "totals: N") is the Ir of the whole collection.
    awk -v n="$iters" '/^(summary|totals):/ {printf "%d\n", ($2 + n / 2) / n; exit}' "$tmp/$c.cg" >"$tmp/$c.ir"
  fi
}

# As many cases at once as there are cores: each takes about a second.
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

: >"$out.tmp.$$"
for c in "${cases[@]}"; do
  ir=$(cat "$tmp/$c.ir" 2>/dev/null)
  if [[ "$ir" =~ ^[0-9]+$ ]]; then
    echo "$c $ir" >>"$out.tmp.$$"
  else
    echo "$c FAILED" >>"$out.tmp.$$"
    cp "$tmp/$c.log" "$out.$c.log" 2>/dev/null || true
  fi
done
mv -f "$out.tmp.$$" "$out"
