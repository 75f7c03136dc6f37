#!/usr/bin/env bash
# Fuzz smoke run for `make test`: every target for a few seconds on BOTH
# engines (libFuzzer and AFL++ persistent mode, the two running side by
# side, one core each), from the seed corpora only; fails on any crash or
# invariant violation, or when an engine does not run.
# Usage: ci/fuzz-smoke.sh BUILD_DIR [SECONDS_PER_TARGET]   (default 10)
# Reports: reports/fuzz/smoke/<engine>/<target>/ (CI uploads reports/fuzz/ on failure).
set -uo pipefail
build=${1:?usage: ci/fuzz-smoke.sh BUILD_DIR [SECONDS_PER_TARGET]}
secs=${2:-${FUZZ_SMOKE_SECONDS:-10}}
cd "$(dirname "$0")/.."
t0=$(date +%s)
targets=$(ls harness/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||' | tr '\n' ' ')
n=$(echo $targets | wc -w)
out=reports/fuzz/smoke
rm -rf "$out"
mkdir -p "$out"

fail() { echo "fuzz-smoke: $*"; exit 1; }
for engine in libfuzzer afl; do
  echo "fuzz-smoke: building the $engine targets"
  bash ci/fuzz-build.sh "$engine" "build-fuzz-$engine" >"$out/build-$engine.log" 2>&1 ||
    { tail -20 "$out/build-$engine.log"; fail "$engine build failed, see $out/build-$engine.log"; }
done
echo "fuzz-smoke: building the replay drivers in $build"
cmake --build "$build" -j "$(nproc)" --target fuzz_all hx guests >"$out/build-replay.log" 2>&1 ||
  { tail -20 "$out/build-replay.log"; fail "replay build failed, see $out/build-replay.log"; }
t1=$(date +%s)

# fuzz_hcall resets one built system between inputs: 10,000 mutated
# inputs with HX_FUZZ_CHECK_RESET=1 compare every reset with the system as
# built (the replay engine's resets have their own test,
# harness/unit/test_replay_reset.c).
echo "fuzz-smoke: 10000 fuzz_hcall inputs, each reset compared with the built system"
mkdir -p "$out/check-reset/corpus"
cp corpus/hcall/* "$out/check-reset/corpus/" 2>/dev/null
rm -f "$out/check-reset/corpus/"*.dict
HX_FUZZ_CHECK_RESET=1 build-fuzz-libfuzzer/fuzz/fuzz_hcall -runs=10000 -seed=1 \
  -artifact_prefix="$out/check-reset/" "$out/check-reset/corpus" >"$out/check-reset.log" 2>&1 ||
  { grep -E 'hx-fuzz|ERROR|SUMMARY' "$out/check-reset.log" | head -5; fail "reset check failed, see $out/check-reset.log"; }

echo "fuzz-smoke: ${secs}s per target on each engine ($targets)"
pids=()
for engine in libfuzzer afl; do
  ENGINE=$engine FUZZ_SECONDS=$((secs * n)) FUZZ_JOBS=1 BUILD=$build REPORT_DIR=$out/$engine \
    FUZZ_NOBUILD=1 bash ci/fuzz.sh >"$out/$engine.txt" 2>&1 &
  pids+=($!)
done
rc=0
for i in 0 1; do wait "${pids[$i]}" || rc=1; done
for engine in libfuzzer afl; do
  echo "---- $engine"
  cat "$out/$engine.txt"
  # Every target must have run: a row with a number of execs per second.
  for t in $targets; do
    grep -E "^$t +[0-9]+ " "$out/$engine.txt" >/dev/null || { echo "fuzz-smoke: $engine: $t did not run"; rc=1; }
  done
done
# AFL++ must have run the exit target's trace mutator (ci/afl-run.sh loads
# it): inputs it made are named op:fuzz_exits.mutator.so in the queue.
if [ -z "$(find "$out"/afl/exits/afl/*/queue -maxdepth 1 -name '*op:fuzz_exits.mutator.so*' 2>/dev/null | head -1)" ]; then
  echo "fuzz-smoke: afl: exits ran without its trace mutator (fuzz_exits.mutator.so)"
  rc=1
fi
t2=$(date +%s)
echo "fuzz-smoke: builds $((t1 - t0))s, fuzzing $((t2 - t1))s, total $((t2 - t0))s"
[ "$rc" -eq 0 ] || fail "crashes or engine failures (reports in $out/)"
echo "fuzz-smoke: every target ran on both engines without a crash"
