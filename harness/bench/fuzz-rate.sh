#!/usr/bin/env bash
# Execs/s of every fuzz target (harness/fuzz/fuzz_*.c): a short run of each
# built binary (ASan+UBSan, as `make fuzz` builds them) on its seeds, into a
# throw-away corpus, beside the engine's ceiling: the same run of an empty
# target built with the same flags (harness/bench/fuzz_ceiling.c,
# FUZZ_BUILD_DIR/bench/fuzz_ceiling) from an empty corpus (AFL++: one
# small seed, it needs one). Each target's ratio_to_ceiling is its
# execs/s over the ceiling's. Writes JSON to OUT (atomically).
#
#   harness/bench/fuzz-rate.sh FUZZ_BUILD_DIR OUT.json [SECONDS]
#
# FUZZ_RATE_ENGINE=libfuzzer (default) or afl: libFuzzer's
# average_exec_per_sec, or AFL++ persistent mode (driver_afl.c, one
# afl-fuzz instance, -V SECONDS) and the execs_done / run_time of its
# fuzzer_stats; both count the seeds' first runs (AFL++: calibration).
# FUZZ_BUILD_DIR is brought up to date with ci/fuzz-build.sh ENGINE first
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
engine=${FUZZ_RATE_ENGINE:-libfuzzer}
case "$engine" in
  libfuzzer|afl) ;;
  *) echo "fuzz-rate: FUZZ_RATE_ENGINE must be libfuzzer or afl, not '$engine'" >&2; exit 2 ;;
esac
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz-rate: SECONDS must be a positive integer, not '$secs'" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json_err() { # message
  printf '{"available": false, "engine": "%s", "reason": "%s", "targets": []}\n' "$engine" \
    "$(printf '%s' "$1" | tr '"\\\n' "'/ ")" >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
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
  echo "fuzz-rate: bringing the $engine targets in $fbuild up to date (log: $fbuild/fuzz-build.log)" >&2
  if ! bash ci/fuzz-build.sh "$engine" "$fbuild" >"$fbuild/fuzz-build.log" 2>&1; then
    json_err "$engine build failed (see $fbuild/fuzz-build.log)"
    exit 0
  fi
fi
if [ "$engine" = afl ] && ! command -v afl-fuzz >/dev/null; then
  json_err "afl-fuzz not found (ci/deps.sh installs afl++)"
  exit 0
fi

# One run of an AFL++ binary; sets execs, units, cov and rc like run_one.
# Run as ci/fuzz.sh runs it (ci/afl-run.sh): the same settings and seeds,
# afl-fuzz pinned with its target to one CPU (one core, as libFuzzer's
# single process uses). No AFL_SKIP_CRASHES: a crashing seed is a note.
if [ "$engine" = afl ]; then
  source ci/afl-run.sh
  afl_pin=$(afl_pin 1)
  if [ -z "$afl_pin" ]; then
    json_err "taskset not found (util-linux), needed to pin afl-fuzz to one CPU"
    exit 0
  fi
fi
run_afl() { # name binary [seed dir]
  local name=$1 bin=$2 stats
  shift 2
  local in=$tmp/$name/in
  afl_seed_dir "$in" "$@"
  local args=(-i "$in" -o "$tmp/$name/out" -V "$secs" -t 10000 -m none)
  [ -f "$seeds_root/$name/$name.dict" ] && args+=(-x "$seeds_root/$name/$name.dict")
  afl_mutator "$bin"
  env ASAN_OPTIONS="$AFL_ASAN_OPTIONS" "${afl_mutator_env[@]}" timeout $((secs + 120)) $afl_pin \
    afl-fuzz "${args[@]}" -- "$bin" \
    >"$tmp/$name.log" 2>&1
  rc=$?
  execs="" units="" cov=""
  stats=$tmp/$name/out/default/fuzzer_stats
  [ -f "$stats" ] || { [ "$rc" -eq 0 ] && rc=1; return; }
  units=$(awk -F: '$1 ~ /^execs_done/ {gsub(/ /,"",$2); print $2}' "$stats")
  cov=$(awk -F: '$1 ~ /^edges_found/ {gsub(/ /,"",$2); print $2}' "$stats")
  local run_time
  run_time=$(awk -F: '$1 ~ /^run_time/ {gsub(/ /,"",$2); print $2}' "$stats")
  if [ -n "$units" ] && [ "${run_time:-0}" -gt 0 ]; then
    execs=$((units / run_time))
  fi
  # A crash found is not a failed measurement, but is noted like libFuzzer's.
  if [ "$rc" -eq 0 ] && [ -n "$(find "$tmp/$name/out/default/crashes" -type f -name 'id:*' 2>/dev/null)" ]; then
    rc=1
  fi
}

# One run of a libFuzzer binary; sets execs, units, cov and rc.
run_one() { # name binary [seed dir]
  local name=$1 bin=$2
  [ "$engine" = afl ] && { run_afl "$@"; return; }
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
  # The libFuzzer builds leave out two UBSan checks (CMakeLists.txt).
  sans="address,undefined"
  [ "$engine" = libfuzzer ] && sans="address,undefined without alignment,pointer-overflow"
  printf '{"available": true, "seconds_per_target": %d, "engine": "%s", "sanitizers": "%s", ' "$secs" "$engine" "$sans"
  ceiling=""
  if [ -x "$ceiling_bin" ]; then
    run_one ceiling "$ceiling_bin"
    note=ok
    [ "$rc" -ne 0 ] && note="stopped early (exit $rc)"
    [ "$rc" -eq 0 ] && [ "${execs:-0}" -gt 0 ] && ceiling=$execs
    printf '"ceiling": {"what": "an empty target (harness/bench/fuzz_ceiling.c), same flags, no seeds", "execs_per_s": %s, "executions": %s, "note": "%s"}, ' \
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
