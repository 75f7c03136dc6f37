#!/usr/bin/env bash
# Execs/s of every libFuzzer target (harness/fuzz/fuzz_*.c): a short run of
# each built binary (ASan+UBSan, as `make fuzz` builds them) on its seeds,
# into a throw-away corpus, beside the engine's ceiling: the same run of an
# empty target built with the same flags (harness/bench/fuzz_ceiling.c,
# FUZZ_BUILD_DIR/bench/fuzz_ceiling) from an empty corpus. Each target's
# ratio_to_ceiling is its execs/s over the ceiling's. Writes JSON to OUT
# (atomically).
#
#   harness/bench/fuzz-rate.sh FUZZ_BUILD_DIR OUT.json [SECONDS]
#
# FUZZ_BUILD_DIR is brought up to date with ci/fuzz-build.sh libfuzzer first
# (FUZZ_RATE_NOBUILD=1: measured as it is, missing binaries noted).
# FUZZ_RATE_SEEDS=DIR takes the seeds from DIR/<target> instead of corpus/
# (fuzz-before.sh: an older commit's own seeds). Nothing is written to
# corpus/ or reports/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
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
  printf '{"available": false, "reason": "%s", "targets": []}\n' "$(printf '%s' "$1" | tr '"\\\n' "'/ ")" \
    >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
}

targets=$(ls harness/fuzz/fuzz_*.c 2>/dev/null | sed 's|.*/fuzz_||; s|\.c$||')
if [ -z "$targets" ]; then
  json_err "no fuzz targets in harness/fuzz"
  exit 0
fi
ceiling_bin=$fbuild/bench/fuzz_ceiling
seeds_root=${FUZZ_RATE_SEEDS:-corpus}
# Always brought up to date (a no-op when it is): binaries left from an
# older source, a scratch patch since reverted say, must not be measured.
if [ "${FUZZ_RATE_NOBUILD:-0}" != 1 ]; then
  mkdir -p "$fbuild"
  echo "fuzz-rate: bringing the libFuzzer targets in $fbuild up to date (log: $fbuild/fuzz-build.log)" >&2
  if ! bash ci/fuzz-build.sh libfuzzer "$fbuild" >"$fbuild/fuzz-build.log" 2>&1; then
    json_err "libFuzzer build failed (see $fbuild/fuzz-build.log)"
    exit 0
  fi
fi

# One run of a libFuzzer binary; sets execs, units, cov and rc.
run_one() { # name binary [seed dir]
  local name=$1 bin=$2
  shift 2
  mkdir -p "$tmp/$name"
  local args=(-max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096
              -artifact_prefix="$tmp/$name/")
  [ -f "$seeds_root/$name/$name.dict" ] && args+=(-dict="$seeds_root/$name/$name.dict")
  "$bin" "${args[@]}" "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$tmp/$name.log" | tail -1 | awk '{print $2}')
  units=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/$name.log" | tail -1 | awk '{print $2}')
  cov=$(grep -o 'cov: [0-9]*' "$tmp/$name.log" | tail -1 | awk '{print $2}')
}

{
  printf '{"available": true, "seconds_per_target": %d, "engine": "libfuzzer", "sanitizers": "address,undefined", ' "$secs"
  ceiling=""
  if [ -x "$ceiling_bin" ]; then
    run_one ceiling "$ceiling_bin"
    note=ok
    [ "$rc" -ne 0 ] && note="stopped early (exit $rc)"
    [ "$rc" -eq 0 ] && [ "${execs:-0}" -gt 0 ] && ceiling=$execs
    printf '"ceiling": {"what": "an empty target (harness/bench/fuzz_ceiling.c), same flags, empty corpus", "execs_per_s": %s, "executions": %s, "note": "%s"}, ' \
      "${execs:-null}" "${units:-null}" "$note"
  else
    printf '"ceiling": {"execs_per_s": null, "note": "not built"}, '
  fi
  printf '"targets": ['
  sep=""
  for t in $targets; do
    bin="$fbuild/fuzz/fuzz_$t"
    if [ ! -x "$bin" ]; then
      printf '%s{"target": "%s", "execs_per_s": null, "note": "not built"}' "$sep" "$t"
      sep=", "
      continue
    fi
    seeds=()
    [ -d "$seeds_root/$t" ] && seeds=("$seeds_root/$t")
    run_one "$t" "$bin" "${seeds[@]}"
    note=ok
    [ "$rc" -ne 0 ] && note="stopped early (exit $rc: a crash or an error; run make fuzz)"
    ratio=null
    if [ -n "$ceiling" ] && [ -n "$execs" ]; then
      ratio=$(awk -v a="$execs" -v b="$ceiling" 'BEGIN { printf "%.6f", a / b }')
    fi
    printf '%s{"target": "%s", "execs_per_s": %s, "executions": %s, "edges": %s, "ratio_to_ceiling": %s, "note": "%s"}' \
      "$sep" "$t" "${execs:-null}" "${units:-null}" "${cov:-null}" "$ratio" "$note"
    sep=", "
  done
  printf ']}\n'
} >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
