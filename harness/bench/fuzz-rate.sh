#!/usr/bin/env bash
# Execs/s of every libFuzzer target (harness/fuzz/fuzz_*.c): a short run of
# each built binary (ASan+UBSan, as `make fuzz` builds them) on its seeds,
# into a throw-away corpus. Writes JSON to OUT (atomically).
#
#   harness/bench/fuzz-rate.sh FUZZ_BUILD_DIR OUT.json [SECONDS]
#
# FUZZ_BUILD_DIR is built with ci/fuzz-build.sh libfuzzer when its binaries
# are missing. Nothing is written to corpus/ or reports/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: fuzz-rate.sh FUZZ_BUILD_DIR OUT.json [SECONDS]" >&2
  exit 2
fi
fbuild=$1
out=$2
secs=${3:-5}
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz-rate: SECONDS must be a positive integer, not '$secs'" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json_err() { # message
  printf '{"available": false, "reason": "%s", "targets": []}\n' "$1" >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
}

targets=$(ls harness/fuzz/fuzz_*.c 2>/dev/null | sed 's|.*/fuzz_||; s|\.c$||')
if [ -z "$targets" ]; then
  json_err "no fuzz targets in harness/fuzz"
  exit 0
fi
missing=0
for t in $targets; do [ -x "$fbuild/fuzz/fuzz_$t" ] || missing=1; done
if [ "$missing" -eq 1 ]; then
  mkdir -p "$fbuild"
  echo "fuzz-rate: building the libFuzzer targets in $fbuild (log: $fbuild/fuzz-build.log)" >&2
  if ! bash ci/fuzz-build.sh libfuzzer "$fbuild" >"$fbuild/fuzz-build.log" 2>&1; then
    json_err "libFuzzer build failed (see $fbuild/fuzz-build.log)"
    exit 0
  fi
fi

{
  printf '{"available": true, "seconds_per_target": %d, "engine": "libfuzzer", "sanitizers": "address,undefined", "targets": [' "$secs"
  sep=""
  for t in $targets; do
    bin="$fbuild/fuzz/fuzz_$t"
    if [ ! -x "$bin" ]; then
      printf '%s{"target": "%s", "execs_per_s": null, "note": "not built"}' "$sep" "$t"
      sep=", "
      continue
    fi
    mkdir -p "$tmp/$t"
    args=(-max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$tmp/$t/")
    [ -f "corpus/$t/$t.dict" ] && args+=(-dict="corpus/$t/$t.dict")
    seeds=()
    [ -d "corpus/$t" ] && seeds=("corpus/$t")
    "$bin" "${args[@]}" "$tmp/$t" "${seeds[@]}" >"$tmp/$t.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$tmp/$t.log" | tail -1 | awk '{print $2}')
    units=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/$t.log" | tail -1 | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$tmp/$t.log" | tail -1 | awk '{print $2}')
    note=ok
    [ "$rc" -ne 0 ] && note="stopped early (exit $rc: a crash or an error; run make fuzz)"
    printf '%s{"target": "%s", "execs_per_s": %s, "executions": %s, "edges": %s, "note": "%s"}' \
      "$sep" "$t" "${execs:-null}" "${units:-null}" "${cov:-null}" "$note"
    sep=", "
  done
  printf ']}\n'
} >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
