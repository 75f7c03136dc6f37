#!/usr/bin/env bash
# Deduplicate and minimize the crashes of one target. Each input in
# OUT/crashes/ runs through the plain replay-driver build (ASan+UBSan,
# symbolized) and is keyed by the invariant id it reports, or else by the
# top three frames of its sanitizer stack. The first input of each key is
# kept as OUT/unique/<id> with its report <id>.txt (first line: the key);
# new ones are minimized to <id>.min (libFuzzer -minimize_crash, afl-tmin,
# or `hx minimize` for exit traces). Exit traces also get a sealed copy
# without recorded outputs, <id>.hxt, and hypercall inputs their calls as a
# trace <id>.hxt: both replay with `hx replay`.
# Prints one line per distinct crash of this run: "<id> new|seen <key>".
# Usage: ci/fuzz-dedup.sh TARGET OUT_DIR REPLAY_BUILD_DIR
set -uo pipefail
t=$1 out=$2 build=$3
cd "$(dirname "$0")/.."
bin=$build/fuzz/fuzz_$t
[ -x "$bin" ] || { echo "fuzz-dedup: $bin missing" >&2; exit 2; }
mkdir -p "$out/unique"
sym=$(command -v llvm-symbolizer || true)
export ASAN_OPTIONS=symbolize=1:abort_on_error=1:handle_abort=1:detect_leaks=0${sym:+:external_symbolizer_path=$sym}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
shopt -s nullglob
declare -A seen=()
for c in "$out"/crashes/*; do
  [ -f "$c" ] || continue
  report=$(timeout 60 "$bin" "$c" 2>&1)
  # (subshells below: the shell's own "Aborted" notices stay out of the output)
  # Frames in the project's own code (harness/, handlers/, mocks/), below
  # the reporting helpers.
  frames=$(printf '%s\n' "$report" | grep -E '^ +#[0-9]+ ' | grep -E '/(harness|handlers|mocks)/' |
    grep -v -E ' in (fz_fail|on_violation|oracle_report|LLVMFuzzerTestOneInput|run_file|main) ' |
    awk '{print $4}')
  key=$(printf '%s\n' "$report" | grep -o 'invariant [A-Z-]* violated' | head -1 | awk '{print $2}')
  if [ -n "$key" ]; then
    # An invariant: its id and the function that checked it.
    key="$key $(printf '%s\n' "$frames" | head -1)"
  else
    kind=$(printf '%s\n' "$report" | grep -o -E 'ERROR: [A-Za-z]+Sanitizer: [a-z-]+|runtime error' | head -1)
    key="${kind:-does not fail on its own (state left by earlier inputs, or a time-out)} $(printf '%s\n' "$frames" | head -3 | tr '\n' ' ')"
  fi
  id=$(printf '%s' "$key" | sha1sum | cut -c1-12)
  [ -n "${seen[$id]:-}" ] && continue
  if [ -f "$out/unique/$id" ]; then
    seen[$id]=seen
  else
    seen[$id]=new
    cp "$c" "$out/unique/$id"
    printf '%s\n%s\n' "$key" "$report" >"$out/unique/$id.txt"
    if [ "$t" = exits ]; then
      (HX_FUZZ_NORMALIZE="$out/unique/$id.hxt" "$bin" "$c" >/dev/null 2>&1; :) 2>/dev/null
      [ -f "$out/unique/$id.hxt" ] && [ -x "$build/hx" ] &&
        timeout 120 "$build/hx" minimize "$out/unique/$id.hxt" -o "$out/unique/$id.min.hxt" >/dev/null 2>&1
    elif [ "$t" = hcall ]; then
      # The calls up to the failing one, as a trace for `hx replay`.
      (HX_FUZZ_TRACE_OUT="$out/unique/$id.hxt" "$bin" "$c" >/dev/null 2>&1; :) 2>/dev/null
    fi
    if [ "$t" = exits ]; then
      :
    elif [ -x "build-fuzz-libfuzzer/fuzz/fuzz_$t" ]; then
      timeout 60 "build-fuzz-libfuzzer/fuzz/fuzz_$t" -minimize_crash=1 -max_total_time=15 \
        -exact_artifact_path="$out/unique/$id.min" "$c" >/dev/null 2>&1
    elif [ -x "build-fuzz-afl/fuzz/fuzz_$t" ]; then
      AFL_QUIET=1 timeout 60 afl-tmin -i "$c" -o "$out/unique/$id.min" -- "build-fuzz-afl/fuzz/fuzz_$t" >/dev/null 2>&1
    fi
  fi
  echo "$id ${seen[$id]} $key"
done
exit 0
