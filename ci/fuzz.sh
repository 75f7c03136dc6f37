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
#   BUILD_JOBS=N           compile jobs for those builds (default: every core)
#   FUZZ_PROGRESS=N        while a target runs: on a terminal, one status line
#                          updated in place; otherwise a plain line every N
#                          seconds (default 10; 0: no progress output)
# Prints per target: execs/s, corpus size, coverage (edges), crashes (inputs
# / distinct) and the time until the first crash. Crash inputs land in REPORT_DIR/<t>/crashes/
# (this run only); each distinct one (by invariant id or top sanitizer
# frames) is kept in REPORT_DIR/<t>/unique/<id> with its report <id>.txt, a
# minimized copy <id>.min, and for exit traces a sealed <id>.hxt that
# `hx replay` takes. The corpus REPORT_DIR/<t>/corpus/ grows run after run;
# with libFuzzer it is then replayed through the plain build (replay_corpus).
# Exit status: 0 no crash, 1 crashes found, 2 bad arguments or build failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ENGINE=${ENGINE:-libfuzzer}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
JOBS=${FUZZ_JOBS:-1}
BUILD=${BUILD:-build}
REPORT_DIR=${REPORT_DIR:-reports/fuzz}
FUZZ_NOBUILD=${FUZZ_NOBUILD:-0}
PROGRESS=${FUZZ_PROGRESS:-10}

all_targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')
TARGETS=${TARGETS:-$all_targets}
die() { echo "fuzz: $*" >&2; exit 2; }
case "$ENGINE" in libfuzzer|afl) ;; *) die "ENGINE must be libfuzzer or afl, not '$ENGINE'";; esac
for t in $TARGETS; do
  [ -f "harness/fuzz/fuzz_$t.c" ] || die "unknown target '$t' (have: $all_targets)"
done
# The call target runs firmware on /dev/kvm: without it, it is left out
# with a message (and CI, where KVM must be there, fails).
if [[ " $TARGETS " == *" call "* ]] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
  [ "${CI:-}" = true ] && die "target call needs /dev/kvm, which CI must have"
  echo "fuzz: leaving out target call: /dev/kvm is not usable here"
  TARGETS=$(echo " $TARGETS " | sed 's/ call / /; s/^ *//; s/ *$//')
  [ -n "$TARGETS" ] || die "no target left to fuzz"
fi
# Its firmware image comes from the replay build (the engine builds do
# not build guest code).
case "$BUILD" in /*) build_abs=$BUILD ;; *) build_abs=$(pwd)/$BUILD ;; esac
export HX_FUZZ_CALL_IMAGE=${HX_FUZZ_CALL_IMAGE:-$build_abs/harness/guest/fw_runtime_services.elf}
[[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] && [ "$FUZZ_SECONDS" -gt 0 ] || die "FUZZ_SECONDS must be a positive integer"
[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -gt 0 ] || die "JOBS must be a positive integer"
[[ "$PROGRESS" =~ ^[0-9]+$ ]] || die "FUZZ_PROGRESS must be a number of seconds (0: off), not '$PROGRESS'"

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
  cmake --build "$BUILD" -j "${BUILD_JOBS:-$(nproc)}" --target fuzz_all hx guests >>"$log" 2>&1 || {
    tail -20 "$log" >&2; die "build of $BUILD failed, see $log"; }
fi

# Seeds: corpus/<t>/ (the exit-sequence target also takes the KVM suite's
# traces) without the dictionary; inputs over 1 MiB are left out.
seed_dirs() {
  local t=$1
  [ -d "corpus/$t" ] && echo "corpus/$t"
  if [ "$t" = exits ] && [ -d corpus/kvm ]; then echo corpus/kvm; fi
}

# afl-fuzz's settings, seeds and CPU pinning: ci/afl-run.sh; here also
# AFL_SKIP_CRASHES, so that a crashing seed does not stop the run (such
# seeds are found and reported first: afl_seed_crashes).
source ci/afl-run.sh
export AFL_SKIP_CRASHES=1

# Live progress, read from the engine's own output: libFuzzer's last status
# line ("#N ... cov: C ... corp: K ... exec/s: E", in -fork mode
# "exec/s E") in its log, AFL++'s fuzzer_stats files (one per instance).
# Prints "execs/s corpus coverage crashes" ("-" while not known yet).
engine_status() { # target_out_dir log
  local out=$1 log=$2 line crashes
  crashes=$(find "$out/crashes" -type f 2>/dev/null | wc -l)
  if [ "$ENGINE" = libfuzzer ]; then
    line=$(tail -c 65536 "$log" 2>/dev/null | grep -a -E '^#[0-9]+' | tail -1)
    if [ -z "$line" ]; then echo "- - - $crashes"; return; fi
    echo "$line" | awk -v c="$crashes" '{
      e = "-"; k = "-"; v = "-"
      for (i = 1; i < NF; i++) {
        if ($i == "exec/s:" || $i == "exec/s") e = $(i + 1)
        else if ($i == "corp:") { k = $(i + 1); sub(/\/.*/, "", k) }
        else if ($i == "cov:") v = $(i + 1)
      }
      print e, k, v, c }'
  else
    # Per instance: the StatsD values ci/afl-statsd.py keeps (every second),
    # else fuzzer_stats (AFL++ rewrites it once a minute).
    local inst f files=()
    for inst in "$out"/afl/*/; do
      inst=$(basename "$inst")
      f=$out/statsd-$inst
      [ -s "$f" ] || f=$out/afl/$inst/fuzzer_stats
      [ -f "$f" ] && files+=("$f")
    done
    if [ ${#files[@]} -eq 0 ]; then echo "- - - $crashes"; return; fi
    awk -F '[ :]+' '$2 !~ /^[0-9.]+$/ { next }
      $1 == "execs_per_sec" { e += $2 } $1 == "corpus_count" { k += $2 }
      $1 == "edges_found" && $2 + 0 > v { v = $2 + 0 }
      $1 == "saved_crashes" || $1 == "unique_crashes" { c += $2 }
      END { printf "%d %d %d %d\n", e, k, v, c }' "${files[@]}"
  fi
}

# Waits for pid while printing the progress of target t (index i of n).
watch_engine() { # pid target i out log start
  local pid=$1 t=$2 i=$3 out=$4 log=$5 t0=$6 now el left line last=0 every=1 cols e k v c
  cols=$(tput cols 2>/dev/null || echo 100)
  [ "$tty" -eq 0 ] && every=$PROGRESS
  # Short sleeps: the end of a run (the time to a first crash) is seen at once.
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    [ "$PROGRESS" -eq 0 ] && continue
    now=$(date +%s); el=$((now - t0)); left=$((per - el)); [ "$left" -lt 0 ] && left=0
    [ $((el - last)) -lt "$every" ] && continue
    last=$el
    read -r e k v c < <(engine_status "$out" "$log")
    line=$(printf '%s [%d/%d] %ds, %ds left  %s execs/s  corpus %s  cov %s  crashes %s' \
      "$t" "$i" "$n_run" "$el" "$left" "$e" "$k" "$v" "$c")
    if [ "$tty" -eq 1 ]; then
      printf '\r\033[K%s' "${line:0:$((cols - 1))}"
    else
      echo "  $line"
    fi
  done
  [ "$tty" -eq 1 ] && [ "$PROGRESS" -gt 0 ] && printf '\r\033[K'
  wait "$pid"
}
tty=0
[ -t 1 ] && tty=1

# The libFuzzer build leaves out UBSan's alignment and pointer-overflow
# checks for speed (CMakeLists.txt). The corpus it grew runs once through
# the plain build, which has them; an input that fails there joins the
# crashes (then deduplicated and minimized like the others). The driver
# names each input before it runs it (HX_REPLAY_ANNOUNCE), so the run goes
# on after a failing one with the inputs that follow it.
replay_corpus() { # target out
  local t=$1 out=$2 bin=$BUILD/fuzz/fuzz_$t log=$out/corpus-replay.log last i
  local -a files
  replay_found=0
  [ -x "$bin" ] || { echo "  $t: no $bin to replay the corpus with" >&2; return 0; }
  mapfile -t files < <(find "$out/corpus" -maxdepth 1 -type f -size -1024k | LC_ALL=C sort)
  while [ ${#files[@]} -gt 0 ] && [ "$replay_found" -lt 20 ]; do
    if HX_REPLAY_ANNOUNCE=1 ASAN_OPTIONS=detect_leaks=0 timeout 600 "$bin" "${files[@]}" >"$log" 2>&1; then
      return 0
    fi
    last=$(grep -a '^replay: running ' "$log" | tail -1); last=${last#replay: running }
    for i in "${!files[@]}"; do [ "${files[$i]}" = "$last" ] && break; done
    if [ -z "$last" ] || [ "${files[$i]}" != "$last" ]; then
      echo "  $t: the plain build failed on the corpus, at no input it named; see $log" >&2
      return 0
    fi
    cp "$last" "$out/crashes/corpus-$(basename "$last")"
    replay_found=$((replay_found + 1))
    files=("${files[@]:$((i + 1))}")
  done
}
engine_pids=()
statsd_pids=()
# Starts ci/afl-statsd.py for the afl-fuzz instance name of the current
# target; sets statsd_env to the variables that make afl-fuzz report to it
# (empty when it did not start: the progress line then reads fuzzer_stats).
start_statsd() { # instance
  local f=$out/statsd-$1 port="" _
  rm -f "$f" "$f.port"
  statsd_env=()
  command -v python3 >/dev/null || return 0
  python3 ci/afl-statsd.py "$f" >"$f.port" 2>/dev/null &
  statsd_pids+=($!)
  for _ in $(seq 30); do
    port=$(head -1 "$f.port" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] && statsd_env=(AFL_STATSD=1 AFL_STATSD_PORT="$port")
  return 0
}
stop_statsd() {
  for p in "${statsd_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  statsd_pids=()
  rm -f "$out"/statsd-*
}
stop_engines() {
  [ "$tty" -eq 1 ] && printf '\r\033[K'
  for p in "${engine_pids[@]}" "${statsd_pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -f "${out:-/nonexistent}"/statsd-*
  echo "fuzz: interrupted" >&2
  exit 130
}
trap stop_engines INT TERM
n_run=$(wc -w <<<"$TARGETS")
i_run=0

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
  i_run=$((i_run + 1))
  start=$(date +%s.%N)
  t0=$(date +%s)
  if [ "$ENGINE" = libfuzzer ]; then
    args=(-max_total_time="$per" -print_final_stats=1 -artifact_prefix="$out/crashes/"
          -timeout=10 -rss_limit_mb=4096 -max_len=1048576)
    [ -f "$dict" ] && args+=(-dict="$dict")
    [ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS" -ignore_crashes=1)
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$bin" "${args[@]}" "$out/corpus" $seeds >"$log" 2>&1 &
    engine_pids=($!)
    watch_engine $! "$t" "$i_run" "$out" "$log" "$t0"
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
    in=$out/afl-in
    afl_seed_dir "$in" $seeds
    # Continue from the corpus of earlier runs too.
    find "$out/corpus" -maxdepth 1 -type f -size -1024k -exec cp {} "$in/" \; 2>/dev/null
    afl_seed_crashes "$bin" "$in" "$out/crashes"
    args=(-i "$in" -o "$out/afl" -V "$per" -t 10000 -m none)
    [ -f "$dict" ] && args+=(-x "$dict")
    rm -rf "$out/afl"
    export ASAN_OPTIONS=$AFL_ASAN_OPTIONS
    afl_mutator "$bin"
    engine_pids=()
    if [ "$JOBS" -gt 1 ]; then
      for j in $(seq 2 "$JOBS"); do
        start_statsd "s$j"
        env "${statsd_env[@]}" "${afl_mutator_env[@]}" $(afl_pin "$j") afl-fuzz "${args[@]}" -S "s$j" -- "$bin" >"$log.s$j" 2>&1 &
        engine_pids+=($!)
      done
      start_statsd main
      env "${statsd_env[@]}" "${afl_mutator_env[@]}" $(afl_pin 1) afl-fuzz "${args[@]}" -M main -- "$bin" >"$log" 2>&1 &
      engine_pids+=($!)
      watch_engine $! "$t" "$i_run" "$out" "$log" "$t0"
      for p in "${engine_pids[@]}"; do wait "$p"; done
    else
      start_statsd default
      env "${statsd_env[@]}" "${afl_mutator_env[@]}" $(afl_pin 1) afl-fuzz "${args[@]}" -- "$bin" >"$log" 2>&1 &
      engine_pids=($!)
      watch_engine $! "$t" "$i_run" "$out" "$log" "$t0"
    fi
    stop_statsd
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
    [ -n "$(ls "$out/crashes" | grep '^seed:')" ] && first="0.0s (a seed)"
  fi
  if [ "$ENGINE" = libfuzzer ]; then
    replay_corpus "$t" "$out"
    [ -z "$first" ] && [ "$replay_found" -gt 0 ] && first="in the corpus replay"
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
    if [ -f "$out/unique/$id.hxt" ]; then
      # Said, not assumed: a hypercall input can fail only the target's
      # model of the ABI (a call refused in the wrong order, nothing
      # touched), which the oracles hx replay runs do not hold.
      verdict="passes there: only the target's own checks see this one"
      if [ -x "$BUILD/hx" ]; then
        timeout 120 "$BUILD/hx" replay "$out/unique/$id.hxt" >/dev/null 2>&1
        case $? in
          0) ;;
          1) verdict="fails there too" ;;
          *) verdict="hx replay could not run it" ;;
        esac
      else
        verdict="no $BUILD/hx to try it"
      fi
      echo "      as a trace: hx replay $out/unique/$id.hxt ($verdict)"
    fi
  done
done
echo "fuzz ($ENGINE, ${per}s per target): $total distinct crash(es); details in $REPORT_DIR/<target>/"
[ "$total" -eq 0 ] || exit 1
