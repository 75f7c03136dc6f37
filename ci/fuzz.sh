#!/usr/bin/env bash
# `make fuzz`: build the fuzz targets for one engine and run each of them.
#   ENGINE=libfuzzer|afl   (default libfuzzer)
#   TARGETS="decode ept"   (default: every harness/fuzz/fuzz_*.c)
#   FUZZ_SECONDS=N         total seconds, split over the targets (default 180)
#   JOBS=N                 cores per target: libFuzzer -fork=N, AFL++ -M + (N-1) -S
# Prints per target: execs/s, corpus size, coverage, crashes. Crashes are
# kept in reports/fuzz/<target>/crashes/, deduplicated by the top frames of
# their sanitizer stack into reports/fuzz/<target>/unique/.
set -uo pipefail
cd "$(dirname "$0")/.."
ENGINE=${ENGINE:-libfuzzer}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
JOBS=${JOBS:-1}
QUIET=${QUIET:-0}

all_targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')
TARGETS=${TARGETS:-$all_targets}
case "$ENGINE" in libfuzzer|afl) ;; *) echo "fuzz: ENGINE must be libfuzzer or afl, not '$ENGINE'" >&2; exit 2;; esac
for t in $TARGETS; do
  [ -f "harness/fuzz/fuzz_$t.c" ] || { echo "fuzz: unknown target '$t' (have: $all_targets)" >&2; exit 2; }
done
[[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] && [ "$FUZZ_SECONDS" -gt 0 ] || { echo "fuzz: FUZZ_SECONDS must be a positive integer" >&2; exit 2; }
[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -gt 0 ] || { echo "fuzz: JOBS must be a positive integer" >&2; exit 2; }

ntargets=$(echo $TARGETS | wc -w)
per=$(( FUZZ_SECONDS / ntargets )); [ "$per" -lt 5 ] && per=5

build=build-fuzz-$ENGINE
bash ci/fuzz-build.sh "$ENGINE" "$build" >"$build.log" 2>&1 || { echo "fuzz: build failed, see $build.log" >&2; tail -20 "$build.log" >&2; exit 1; }
replay=build/fuzz
if [ ! -d "$replay" ]; then make -s build >/dev/null || true; fi

total_crashes=0
printf '%-10s %10s %10s %12s %8s\n' target execs/s corpus coverage crashes
for t in $TARGETS; do
  out=reports/fuzz/$t
  mkdir -p "$out/corpus" "$out/crashes" "$out/unique"
  seeds=corpus/$t
  dict=corpus/$t/$t.dict
  [ -d "$seeds" ] || seeds=""
  bin=$build/fuzz/fuzz_$t
  log=$out/$ENGINE.log
  if [ "$ENGINE" = libfuzzer ]; then
    args=(-max_total_time="$per" -print_final_stats=1 -artifact_prefix="$out/crashes/" -timeout=10 -rss_limit_mb=4096)
    [ -f "$dict" ] && args+=(-dict="$dict")
    [ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS" -ignore_crashes=1)
    "$bin" "${args[@]}" "$out/corpus" ${seeds:+"$seeds"} >"$log" 2>&1
    execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2" edges"}')
    corp=$(ls "$out/corpus" | wc -l)
  else
    in=$out/afl-in; rm -rf "$in"; mkdir -p "$in"
    [ -n "$seeds" ] && find "$seeds" -maxdepth 1 -type f ! -name '*.dict' -size -1M -exec cp {} "$in/" \;
    [ -n "$(ls -A "$in")" ] || printf 'seed' >"$in/empty"
    args=(-i "$in" -o "$out/afl" -V "$per" -t 10000)
    [ -f "$dict" ] && args+=(-x "$dict")
    export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_QUIET=1
    export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0
    rm -rf "$out/afl"
    if [ "$JOBS" -gt 1 ]; then
      for j in $(seq 2 "$JOBS"); do afl-fuzz "${args[@]}" -S "s$j" -- "$bin" >"$log.s$j" 2>&1 & done
      afl-fuzz "${args[@]}" -M main -- "$bin" >"$log" 2>&1; wait
    else
      afl-fuzz "${args[@]}" -- "$bin" >"$log" 2>&1
    fi
    unset ASAN_OPTIONS
    stats=$(ls "$out"/afl/*/fuzzer_stats 2>/dev/null | head -1)
    execs=$(awk -F: '/execs_per_sec/ {gsub(/ /,"",$2); s+=$2} END {printf "%d", s}' "$out"/afl/*/fuzzer_stats 2>/dev/null)
    cov=$(awk -F: '/bitmap_cvg/ {gsub(/ /,"",$2); print $2}' "$stats" 2>/dev/null)
    corp=$(awk -F: '/corpus_count/ {gsub(/ /,"",$2); s+=$2} END {print s+0}' "$out"/afl/*/fuzzer_stats 2>/dev/null)
    find "$out"/afl/*/crashes -type f -name 'id:*' -exec cp {} "$out/crashes/" \; 2>/dev/null
  fi
  n=$(bash ci/fuzz-dedup.sh "$t" "$out" "$replay" 2>/dev/null | tail -1)
  n=${n:-0}
  total_crashes=$((total_crashes + n))
  printf '%-10s %10s %10s %12s %8s\n' "$t" "${execs:-?}" "${corp:-?}" "${cov:-?}" "$n"
  if [ "$n" -gt 0 ] && [ "$QUIET" = 0 ]; then
    echo "  unique crashes in $out/unique/ — reproduce: make repro CRASH=<file>"
  fi
done
echo "fuzz ($ENGINE, ${per}s per target): $total_crashes unique crash(es)"
[ "$total_crashes" -eq 0 ]
