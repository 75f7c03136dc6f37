#!/usr/bin/env bash
# `make fuzz`: build the fuzz targets for one engine and run each of them.
#   ENGINE=libfuzzer|afl   (default libfuzzer)
#   TARGETS="hcall gpt"    (default: every harness/fuzz/fuzz_*.c)
#   FUZZ_SECONDS=N         total seconds, split over the targets (default 180)
#   FUZZ_JOBS=N            cores per target: libFuzzer -fork=N, AFL++ -M + (N-1) -S
#   BUILD=DIR              the plain (replay-driver) build used to deduplicate
#                          and reproduce crashes (default build)
#   REPORT_DIR=DIR         default reports/fuzz
#   FUZZ_NOBUILD=1         use the engine and replay builds as they are
# Prints per target: execs/s, corpus size, coverage (edges), crashes (inputs
# / distinct) and the time until the first crash. Crash inputs land in REPORT_DIR/<t>/crashes/
# (this run only); each distinct one (by invariant id or top sanitizer
# frames) is kept in REPORT_DIR/<t>/unique/<id> with its report <id>.txt, a
# minimized copy <id>.min, and for exit traces a sealed <id>.hxt that
# `hx replay` takes. The corpus REPORT_DIR/<t>/corpus/ grows run after run.
# Exit status: 0 no crash, 1 crashes found, 2 bad arguments or build failure.
set -uo pipefail
cd "$(dirname "$0")/.."
ENGINE=${ENGINE:-libfuzzer}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
JOBS=${FUZZ_JOBS:-1}
BUILD=${BUILD:-build}
REPORT_DIR=${REPORT_DIR:-reports/fuzz}
FUZZ_NOBUILD=${FUZZ_NOBUILD:-0}

all_targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')
TARGETS=${TARGETS:-$all_targets}
die() { echo "fuzz: $*" >&2; exit 2; }
case "$ENGINE" in libfuzzer|afl) ;; *) die "ENGINE must be libfuzzer or afl, not '$ENGINE'";; esac
for t in $TARGETS; do
  [ -f "harness/fuzz/fuzz_$t.c" ] || die "unknown target '$t' (have: $all_targets)"
done
[[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] && [ "$FUZZ_SECONDS" -gt 0 ] || die "FUZZ_SECONDS must be a positive integer"
[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -gt 0 ] || die "JOBS must be a positive integer"

ntargets=$(echo $TARGETS | wc -w)
per=$(( FUZZ_SECONDS / ntargets )); [ "$per" -lt 5 ] && per=5
engine_build=build-fuzz-$ENGINE
mkdir -p "$REPORT_DIR"

if [ "$FUZZ_NOBUILD" != 1 ]; then
  log=$REPORT_DIR/build-$ENGINE.log
  echo "fuzz: building the $ENGINE targets in $engine_build/ (log: $log)"
  bash ci/fuzz-build.sh "$ENGINE" "$engine_build" >"$log" 2>&1 || {
    tail -20 "$log" >&2; die "build failed, see $log"; }
  echo "fuzz: building the replay drivers and hx in $BUILD/"
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >>"$log" 2>&1 || die "configure of $BUILD failed, see $log"
  fi
  cmake --build "$BUILD" -j "$(nproc)" --target fuzz_all hx >>"$log" 2>&1 || {
    tail -20 "$log" >&2; die "build of $BUILD failed, see $log"; }
fi

# Seeds: corpus/<t>/ (the exit-sequence target also takes the KVM suite's
# traces) without the dictionary; inputs over 1 MiB are left out.
seed_dirs() {
  local t=$1
  [ -d "corpus/$t" ] && echo "corpus/$t"
  if [ "$t" = exits ] && [ -d corpus/kvm ]; then echo corpus/kvm; fi
}

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
  AFL_QUIET=1 AFL_SKIP_CRASHES=1

total=0
printf '%-8s %9s %8s %20s %8s %s\n' target execs/s corpus coverage crashes "first crash"
for t in $TARGETS; do
  out=$REPORT_DIR/$t
  rm -rf "$out/crashes"
  mkdir -p "$out/corpus" "$out/crashes" "$out/unique"
  dict=corpus/$t/$t.dict
  bin=$engine_build/fuzz/fuzz_$t
  log=$out/$ENGINE.log
  seeds=$(seed_dirs "$t")
  execs="" corp="" cov="" first=""
  start=$(date +%s.%N)
  if [ "$ENGINE" = libfuzzer ]; then
    args=(-max_total_time="$per" -print_final_stats=1 -artifact_prefix="$out/crashes/"
          -timeout=10 -rss_limit_mb=4096 -max_len=1048576)
    [ -f "$dict" ] && args+=(-dict="$dict")
    [ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS" -ignore_crashes=1)
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$bin" "${args[@]}" "$out/corpus" $seeds >"$log" 2>&1
    end=$(date +%s.%N)
    execs=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
    if [ -z "$execs" ]; then # fork mode: derive from the last status line
      execs=$(grep -o -E 'exec/s:? [0-9]+' "$log" | tail -1 | awk '{print $2}')
    fi
    units=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
    if [ "${execs:-0}" = 0 ] && [ -n "$units" ]; then # stopped within the first second
      execs=$(awk -v n="$units" -v a="$start" -v b="$end" 'BEGIN { printf "%d", n / (b - a) }')
    fi
    # (-fork status lines count features under "cov:")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 |
      awk -v f="$JOBS" '{print $2 (f > 1 ? " features" : " edges")}')
    # Inputs in the fuzzer's corpus at the end (seeds kept + new ones).
    corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    if [ -n "$(ls -A "$out/crashes")" ]; then
      first=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')
    fi
  else
    in=$out/afl-in; rm -rf "$in"; mkdir -p "$in"
    for d in $seeds; do
      find "$d" -maxdepth 1 -type f ! -name '*.dict' -size -1024k -exec cp {} "$in/" \;
    done
    [ -n "$(ls -A "$in")" ] || printf 'seed' >"$in/empty"
    # Continue from the corpus of earlier runs too.
    find "$out/corpus" -maxdepth 1 -type f -size -1024k -exec cp {} "$in/" \; 2>/dev/null
    args=(-i "$in" -o "$out/afl" -V "$per" -t 10000 -m none)
    [ -f "$dict" ] && args+=(-x "$dict")
    rm -rf "$out/afl"
    export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0
    if [ "$JOBS" -gt 1 ]; then
      for j in $(seq 2 "$JOBS"); do afl-fuzz "${args[@]}" -S "s$j" -- "$bin" >"$log.s$j" 2>&1 & done
      afl-fuzz "${args[@]}" -M main -- "$bin" >"$log" 2>&1; wait
    else
      afl-fuzz "${args[@]}" -- "$bin" >"$log" 2>&1
    fi
    unset ASAN_OPTIONS
    stats=$(ls "$out"/afl/*/fuzzer_stats 2>/dev/null | head -1)
    if [ -n "$stats" ]; then
      execs=$(awk -F: '/^execs_per_sec/ {gsub(/ /,"",$2); s+=$2} END {printf "%d", s}' "$out"/afl/*/fuzzer_stats)
      cov=$(awk -F: '/^edges_found/ {gsub(/ /,"",$2); e=$2} /^bitmap_cvg/ {gsub(/ /,"",$2); c=$2} END {print e" edges ("c")"}' "$stats")
      corp=$(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); s+=$2} END {print s+0}' "$out"/afl/*/fuzzer_stats)
      # Keep the queue as the corpus for the next run.
      find "$out"/afl/*/queue -maxdepth 1 -type f -name 'id:*' -exec cp {} "$out/corpus/" \; 2>/dev/null
    else
      echo "  afl-fuzz did not start, see $log" >&2
    fi
    find "$out"/afl/*/crashes -type f -name 'id:*' -exec cp {} "$out/crashes/" \; 2>/dev/null
    # AFL++ names crashes ...,time:MS,...: the earliest is the first found.
    ms=$(ls "$out/crashes" 2>/dev/null | grep -o 'time:[0-9]*' | cut -d: -f2 | sort -n | head -1)
    [ -n "$ms" ] && first=$(awk -v m="$ms" 'BEGIN { printf "%.1fs", m / 1000 }')
  fi
  ncrash=$(find "$out/crashes" -type f | wc -l)
  distinct=()
  if [ "$ncrash" -gt 0 ]; then
    mapfile -t distinct < <(bash ci/fuzz-dedup.sh "$t" "$out" "$BUILD")
  fi
  crashes=$ncrash; [ "$ncrash" -gt 0 ] && crashes="$ncrash/${#distinct[@]}"
  total=$((total + ${#distinct[@]}))
  printf '%-8s %9s %8s %20s %8s %s\n' "$t" "${execs:-?}" "${corp:-?}" "${cov:-?}" "$crashes" "${first:--}"
  for line in "${distinct[@]}"; do
    id=${line%% *}; rest=${line#* }; state=${rest%% *}; key=${rest#* }
    echo "    [$state] $key"
    echo "      input $out/unique/$id   reproduce: make repro CRASH=$out/unique/$id"
    [ -f "$out/unique/$id.hxt" ] && echo "      as a trace: hx replay $out/unique/$id.hxt"
  done
done
echo "fuzz ($ENGINE, ${per}s per target): $total distinct crash(es); details in $REPORT_DIR/<target>/"
[ "$total" -eq 0 ] || exit 1
